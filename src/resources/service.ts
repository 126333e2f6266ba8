import { and, eq, isNull, type SQL, sql } from "drizzle-orm";
import type { Actor } from "../auth/index.ts";
import type { Db } from "../kernel/index.ts";
import { AppError, fail, newId } from "../kernel/index.ts";
import type { WriteOp, WritePath } from "../ledger/index.ts";
import {
  assertRequired,
  type PreparedValues,
  prepareValues,
  type ResourceRow,
  type ResourceState,
  resources,
  selectResources,
  withDefaults,
  writableState,
} from "../ledger/index.ts";
import type { Catalog, CatalogStore, FieldDef, TypeDef } from "../metadata/index.ts";
import {
  assertCanWriteType,
  canReadType,
  coerceValue,
  InvalidValue,
  visibleField,
  visibleType,
} from "../metadata/index.ts";
import { withIdempotency } from "./idempotency.ts";
import {
  assertNoCycle,
  checkReferences,
  type FileReferenceCheck,
  linksForWriteCheck,
  type ReferenceContext,
} from "./references.ts";

export const MAX_BULK = 100;

/** A write's context: its transaction, actor and catalog, and how FILE values are checked. */
type Ctx = ReferenceContext;

function stateOf(row: ResourceRow): ResourceState {
  return { name: row.name, parentId: row.parentId, assigneeId: row.assigneeId, values: { ...row.values } };
}

function applyPrepared(state: ResourceState, prepared: PreparedValues): ResourceState {
  return { ...state, ...prepared.columns, values: { ...state.values, ...prepared.values } };
}

/** Resource mutations: each builds write operations and hands them to the one write path. */
export class ResourceService {
  constructor(
    private readonly db: Db,
    private readonly catalogs: CatalogStore,
    private readonly writes: WritePath,
    private readonly checkFiles: FileReferenceCheck,
  ) {}

  /** One transaction with the actor's catalog; after commit the new changes are being numbered. */
  private async transact<T>(actor: Actor, run: (ctx: Ctx) => Promise<T>): Promise<T> {
    const catalog = await this.writerCatalog(actor);
    const result = await this.db.transaction((tx) =>
      run({ tx, actor, catalog, checkFiles: this.checkFiles }),
    );
    this.writes.committed(actor.workspaceId);
    return result;
  }

  /**
   * `transact` without BEGIN and COMMIT, for an operation whose one write is one statement: a create
   * without an idempotency key. Its reads are checks (references exist) that a READ COMMITTED
   * transaction would not lock either, and the row with its change row is one statement, atomic on
   * its own — so the transaction only cost two round trips and a reserved connection.
   */
  private async autocommit<T>(actor: Actor, run: (ctx: Ctx) => Promise<T>): Promise<T> {
    const catalog = await this.writerCatalog(actor);
    const result = await run({ tx: this.db, actor, catalog, checkFiles: this.checkFiles });
    this.writes.committed(actor.workspaceId);
    return result;
  }

  /**
   * Whether a create's values name a FILE field: using a file marks it attached, a second write that
   * must roll back with the row (or a failed create would take an upload from its uploader), so
   * such a create keeps its transaction.
   */
  private async setsFileField(actor: Actor, typeKey: string, values: unknown): Promise<boolean> {
    if (!values || typeof values !== "object") return false;
    const type = (await this.catalogs.get(actor.workspaceId)).typesByKey.get(typeKey);
    return Object.keys(values).some((key) => type?.fieldsByKey.get(key)?.type === "FILE");
  }

  private async writerCatalog(actor: Actor): Promise<Catalog> {
    if (!actor.scopes.includes("WRITE")) {
      throw fail.forbidden("This credential is read-only (no WRITE scope); use one that grants WRITE.");
    }
    return this.catalogs.get(actor.workspaceId);
  }

  /** Locks a live (or deleted) resource the actor can write; NOT_FOUND when it cannot see it. */
  private async lock(
    ctx: Ctx,
    id: string,
    options: { deleted?: boolean; argument?: string } = {},
  ): Promise<{ row: ResourceRow; type: TypeDef }> {
    const [row] = await selectResources(
      ctx.tx,
      sql`${resources.id} = ${id} and ${resources.workspaceId} = ${ctx.actor.workspaceId}`,
      sql`for update`,
    );
    const type = row ? ctx.catalog.typesById.get(row.typeId) : undefined;
    const visible =
      row &&
      type &&
      canReadType(ctx.catalog, ctx.actor, type) &&
      (options.deleted ? row.deletedAt : !row.deletedAt);
    if (!row || !type || !visible) {
      throw fail.notFound(`No ${options.deleted ? "deleted " : ""}resource with id ${JSON.stringify(id)}.`);
    }
    assertCanWriteType(ctx.catalog, ctx.actor, type);
    return { row, type };
  }

  private assertVersion(row: ResourceRow, expected: number | null | undefined): void {
    if (expected != null && expected !== row.version) {
      throw fail.conflict(
        `The resource is at version ${row.version}, not ${expected}; reload it and retry.`,
        {
          currentVersion: row.version,
          field: "expectedVersion",
        },
      );
    }
  }

  /**
   * A create's operation. With `linksOnWrite` (a create that is one statement) the write statement
   * checks the resources it links to, where it can (`linksForWriteCheck`); else they are checked here.
   */
  private async prepareCreate(
    ctx: Ctx,
    type: TypeDef,
    values: unknown,
    prefix = "",
    linksOnWrite = false,
  ): Promise<WriteOp> {
    const prepared = prepareValues(ctx.catalog, ctx.actor, type, values ?? {}, prefix);
    const empty = { name: null, parentId: null, assigneeId: null, values: {} };
    const state = withDefaults(type, values, applyPrepared(empty, prepared));
    assertRequired(ctx.catalog, ctx.actor, type, state, prefix);
    const op: WriteOp = { kind: "create", type, id: newId("resource"), state, fieldPrefix: prefix };
    const links = linksOnWrite ? linksForWriteCheck(ctx, prepared.references, prefix) : null;
    if (links) return { ...op, links };
    await checkReferences(ctx, prepared.references, prefix);
    return op;
  }

  private async prepareUpdate(
    ctx: Ctx,
    row: ResourceRow,
    type: TypeDef,
    values: unknown,
    prefix = "",
  ): Promise<WriteOp> {
    const prepared = prepareValues(ctx.catalog, ctx.actor, type, values ?? {}, prefix);
    await checkReferences(ctx, prepared.references, prefix);
    if (prepared.columns.parentId !== undefined)
      await assertNoCycle(ctx.tx, row.id, prepared.columns.parentId, prefix);
    return {
      kind: "update",
      type,
      before: row,
      state: applyPrepared(stateOf(row), prepared),
      fieldPrefix: prefix,
    };
  }

  /**
   * The rows an idempotent write's first run wrote, read again for a replay (a fresh run returns
   * the rows it wrote and reads nothing).
   */
  private async replayed(ctx: Ctx, ids: string[]): Promise<ResourceRow[]> {
    if (ids.length === 0) return [];
    const rows = await selectResources(ctx.tx, sql`${resources.id} = any(${sql.param(ids)}::text[])`);
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  async create(
    actor: Actor,
    input: { type: string; values?: unknown; idempotencyKey?: string | null },
  ): Promise<ResourceRow> {
    if (input.idempotencyKey == null && !(await this.setsFileField(actor, input.type, input.values))) {
      return this.autocommit(actor, async (ctx) => {
        const type = visibleType(ctx.catalog, actor, input.type);
        assertCanWriteType(ctx.catalog, actor, type);
        const op = await this.prepareCreate(ctx, type, input.values, "", true);
        return (await this.writes.commit(ctx.tx, actor, ctx.catalog, [op]))[0] as ResourceRow;
      });
    }
    return this.transact(actor, async (ctx) => {
      const type = visibleType(ctx.catalog, actor, input.type);
      assertCanWriteType(ctx.catalog, actor, type);
      let written: ResourceRow[] | undefined;
      const { result } = await withIdempotency(
        ctx.tx,
        actor.workspaceId,
        input.idempotencyKey,
        "createResource",
        input,
        async () => {
          written = await this.writes.commit(ctx.tx, actor, ctx.catalog, [
            await this.prepareCreate(ctx, type, input.values),
          ]);
          return { ids: written.map((r) => r.id) };
        },
      );
      return (written ?? (await this.replayed(ctx, result.ids)))[0] as ResourceRow;
    });
  }

  async update(
    actor: Actor,
    input: { id: string; values?: unknown; expectedVersion?: number | null },
  ): Promise<ResourceRow> {
    return this.transact(actor, async (ctx) => {
      const { row, type } = await this.lock(ctx, input.id);
      this.assertVersion(row, input.expectedVersion);
      const [updated] = await this.writes.commit(ctx.tx, actor, ctx.catalog, [
        await this.prepareUpdate(ctx, row, type, input.values),
      ]);
      return updated as ResourceRow;
    });
  }

  /** Creates, or updates the resource whose `matchOn` fields equal the input's values. */
  async upsert(
    actor: Actor,
    input: { type: string; matchOn: string[]; values?: unknown; idempotencyKey?: string | null },
  ): Promise<{ resource: ResourceRow; created: boolean }> {
    return this.transact(actor, async (ctx) => {
      const type = visibleType(ctx.catalog, actor, input.type);
      assertCanWriteType(ctx.catalog, actor, type);
      const values = (input.values ?? {}) as Record<string, unknown>;
      if (typeof values !== "object" || values === null || Array.isArray(values))
        throw fail.badInput("values", "values is a JSON object of { fieldKey: value }.");
      const match = matchValues(matchFields(ctx.catalog, actor, type, input.matchOn), values, "values.");
      let written: ResourceRow[] | undefined;
      const { result } = await withIdempotency(
        ctx.tx,
        actor.workspaceId,
        input.idempotencyKey,
        "upsertResource",
        input,
        async () => {
          const existing = await this.findMatch(ctx, type, match);
          written = await this.writes.commit(ctx.tx, actor, ctx.catalog, [
            existing
              ? await this.prepareUpdate(ctx, existing, type, values)
              : await this.prepareCreate(ctx, type, values),
          ]);
          return { ids: written.map((r) => r.id), created: !existing };
        },
      );
      const [resource] = written ?? (await this.replayed(ctx, result.ids));
      return { resource: resource as ResourceRow, created: result.created };
    });
  }

  /**
   * Bulk upsert: each item is a values object; `matchOn` names unique fields (or name) as for
   * `upsert`, whose values each item holds, or is `["id"]` (an item with an id updates that
   * resource, one without creates). Items apply in
   * order in one transaction, each through the write path, so a later item sees an earlier one's
   * resource; any bad item fails the whole call naming `items[i].<field>`.
   */
  async upsertMany(
    actor: Actor,
    input: { type: string; matchOn: string[]; items: unknown[]; idempotencyKey?: string | null },
  ): Promise<{ resource: ResourceRow; created: boolean }[]> {
    checkBulk(input.items.length, "items");
    return this.transact(actor, async (ctx) => {
      const type = visibleType(ctx.catalog, actor, input.type);
      assertCanWriteType(ctx.catalog, actor, type);
      const byId = input.matchOn.length === 1 && input.matchOn[0] === "id";
      const fields = byId ? null : matchFields(ctx.catalog, actor, type, input.matchOn);
      let written: ResourceRow[] | undefined;
      const { result } = await withIdempotency(
        ctx.tx,
        actor.workspaceId,
        input.idempotencyKey,
        "upsertResources",
        input,
        async () => {
          written = [];
          const created: boolean[] = [];
          for (const [index, item] of input.items.entries()) {
            const prefix = `items[${index}].`;
            if (!item || typeof item !== "object" || Array.isArray(item))
              throw fail.badInput(`items[${index}]`, "Each item is a JSON object of { fieldKey: value }.");
            const existing = await this.itemMatch(ctx, type, fields, item as Record<string, unknown>, prefix);
            const { id: _id, ...values } = item as Record<string, unknown>;
            const op = existing
              ? await this.prepareUpdate(ctx, existing, type, fields ? item : values, prefix)
              : await this.prepareCreate(ctx, type, fields ? item : values, prefix);
            written.push(...(await this.writes.commit(ctx.tx, actor, ctx.catalog, [op])));
            created.push(!existing);
          }
          return { ids: written.map((r) => r.id), created };
        },
      );
      const rows = written ?? (await this.replayed(ctx, result.ids));
      return rows.map((resource, i) => ({ resource, created: result.created[i] ?? false }));
    });
  }

  /** The resource an upsert item names: by its match fields' values, or by `id` (none: create). */
  private async itemMatch(
    ctx: Ctx,
    type: TypeDef,
    fields: FieldDef[] | null,
    item: Record<string, unknown>,
    prefix: string,
  ): Promise<ResourceRow | undefined> {
    if (!fields) {
      if (item.id == null) return undefined;
      if (typeof item.id !== "string") throw fail.badInput(`${prefix}id`, "id must be a resource id string.");
      // A missing resource is a bad item here (the batch is refused as a whole), not NOT_FOUND.
      const { row, type: found } = await this.lock(ctx, item.id).catch((error: unknown) => {
        if (error instanceof AppError && error.code === "NOT_FOUND")
          throw fail.badInput(`${prefix}id`, `${prefix}id: ${error.message}`);
        throw prefixError(`${prefix}id`)(error);
      });
      if (found.id !== type.id) throw fail.badInput(`${prefix}id`, `${item.id} is not a ${type.key}.`);
      return row;
    }
    return this.findMatch(ctx, type, matchValues(fields, item, prefix));
  }

  private async findMatch(
    ctx: Ctx,
    type: TypeDef,
    match: Record<string, unknown>,
  ): Promise<ResourceRow | undefined> {
    const jsonb: Record<string, unknown> = {};
    const conditions = [
      eq(resources.workspaceId, ctx.actor.workspaceId),
      eq(resources.typeId, type.id),
      isNull(resources.deletedAt),
    ];
    for (const [key, value] of Object.entries(match)) {
      if (key === "name") conditions.push(eq(resources.name, value as string));
      else jsonb[key] = value;
    }
    if (Object.keys(jsonb).length > 0)
      conditions.push(sql`${resources.values} @> ${JSON.stringify(jsonb)}::jsonb`);
    const [row] = await selectResources(ctx.tx, and(...conditions) as SQL, sql`limit 1 for update`);
    return row;
  }

  async delete(actor: Actor, input: { id: string; expectedVersion?: number | null }): Promise<string> {
    return this.transact(actor, async (ctx) => {
      const { row, type } = await this.lock(ctx, input.id);
      this.assertVersion(row, input.expectedVersion);
      await this.writes.commit(ctx.tx, actor, ctx.catalog, [{ kind: "delete", type, before: row }]);
      return row.id;
    });
  }

  async restore(actor: Actor, input: { id: string }): Promise<ResourceRow> {
    return this.transact(actor, async (ctx) => {
      const { row, type } = await this.lock(ctx, input.id, { deleted: true });
      const [restored] = await this.writes.commit(ctx.tx, actor, ctx.catalog, [
        { kind: "restore", type, before: row },
      ]);
      return restored as ResourceRow;
    });
  }

  /**
   * A new resource with the values of the fields the caller may write (new id; `name` unchanged
   * unless overridden): fields it may only read or cannot see start empty, as if it had created it.
   */
  async copy(
    actor: Actor,
    input: { id: string; values?: unknown; idempotencyKey?: string | null },
  ): Promise<ResourceRow> {
    return this.transact(actor, async (ctx) => {
      let written: ResourceRow[] | undefined;
      const { result } = await withIdempotency(
        ctx.tx,
        actor.workspaceId,
        input.idempotencyKey,
        "copyResource",
        input,
        async () => {
          const { row, type } = await this.lock(ctx, input.id);
          const overrides = prepareValues(ctx.catalog, actor, type, input.values ?? {});
          await checkReferences(ctx, overrides.references);
          const state = applyPrepared(writableState(ctx.catalog, actor, type, row), overrides);
          assertRequired(ctx.catalog, actor, type, state);
          written = await this.writes.commit(ctx.tx, actor, ctx.catalog, [
            { kind: "create", type, id: newId("resource"), state },
          ]);
          return { ids: written.map((r) => r.id) };
        },
      );
      return (written ?? (await this.replayed(ctx, result.ids)))[0] as ResourceRow;
    });
  }

  /** Adds (or removes) targets of a LINKS field: an UPDATED change with `added` / `removed`. */
  async link(
    actor: Actor,
    input: { id: string; field: string; targetIds: string[] },
    remove = false,
  ): Promise<ResourceRow> {
    return this.transact(actor, async (ctx) => {
      const { row, type } = await this.lock(ctx, input.id);
      const field = visibleField(ctx.catalog, actor, type, input.field, "field");
      if (field.type !== "LINKS") throw fail.badInput("field", `${field.key} is not a LINKS field.`);
      if (input.targetIds.length === 0 || input.targetIds.length > 1000) {
        throw fail.badInput("targetIds", "targetIds takes 1 to 1000 ids.");
      }
      const current = (row.values[field.id] as string[] | undefined) ?? [];
      const next = remove
        ? current.filter((id) => !input.targetIds.includes(id))
        : [...current, ...input.targetIds];
      const values = { [field.key]: next };
      const op = await this.prepareUpdate(ctx, row, type, values, "").catch((error: unknown) => {
        // Name the argument the caller passed, not the internal values object.
        if (error instanceof AppError && error.extensions.field === field.key) {
          throw fail.badInput("targetIds", error.message);
        }
        throw error;
      });
      const [updated] = await this.writes.commit(ctx.tx, actor, ctx.catalog, [op]);
      return updated as ResourceRow;
    });
  }

  async assign(actor: Actor, input: { id: string; memberId: string | null }): Promise<ResourceRow> {
    return this.setOne(actor, input.id, "assignee", input.memberId, "memberId");
  }

  async move(actor: Actor, input: { id: string; parentId: string | null }): Promise<ResourceRow> {
    return this.setOne(actor, input.id, "parent", input.parentId, "parentId");
  }

  /** One field's new value through the write path; errors name the caller's `argument`. */
  private async setOne(
    actor: Actor,
    id: string,
    key: string,
    value: unknown,
    argument: string,
  ): Promise<ResourceRow> {
    return this.transact(actor, async (ctx) => {
      const { row, type } = await this.lock(ctx, id);
      const op = await this.prepareUpdate(ctx, row, type, { [key]: value }).catch(renameField(key, argument));
      const [updated] = await this.writes.commit(ctx.tx, actor, ctx.catalog, [op]);
      return updated as ResourceRow;
    });
  }

  async createMany(
    actor: Actor,
    input: { type: string; items: { values?: unknown }[]; idempotencyKey?: string | null },
  ): Promise<ResourceRow[]> {
    checkBulk(input.items.length, "items");
    return this.transact(actor, async (ctx) => {
      const type = visibleType(ctx.catalog, actor, input.type);
      assertCanWriteType(ctx.catalog, actor, type);
      let written: ResourceRow[] | undefined;
      const { result } = await withIdempotency(
        ctx.tx,
        actor.workspaceId,
        input.idempotencyKey,
        "createResources",
        input,
        async () => {
          const ops: WriteOp[] = [];
          for (const [index, item] of input.items.entries()) {
            ops.push(await this.prepareCreate(ctx, type, item.values, `items[${index}].values.`));
          }
          written = await this.writes.commit(ctx.tx, actor, ctx.catalog, ops);
          return { ids: written.map((r) => r.id) };
        },
      );
      return written ?? (await this.replayed(ctx, result.ids));
    });
  }

  async updateMany(
    actor: Actor,
    input: { items: { id: string; values?: unknown; expectedVersion?: number | null }[] },
  ): Promise<ResourceRow[]> {
    checkBulk(input.items.length, "items");
    return this.transact(actor, async (ctx) => {
      const ops: WriteOp[] = [];
      for (const [index, item] of input.items.entries()) {
        const { row, type } = await this.lock(ctx, item.id).catch(prefixError(`items[${index}].id`));
        try {
          this.assertVersion(row, item.expectedVersion);
        } catch (error) {
          throw prefixError(`items[${index}].`)(error);
        }
        ops.push(await this.prepareUpdate(ctx, row, type, item.values, `items[${index}].values.`));
      }
      return this.writes.commit(ctx.tx, actor, ctx.catalog, ops);
    });
  }

  async deleteMany(actor: Actor, input: { ids: string[] }): Promise<string[]> {
    checkBulk(input.ids.length, "ids");
    return this.transact(actor, async (ctx) => {
      const ops: WriteOp[] = [];
      for (const [index, id] of [...new Set(input.ids)].entries()) {
        const { row, type } = await this.lock(ctx, id).catch(prefixError(`ids[${index}]`));
        ops.push({ kind: "delete", type, before: row });
      }
      return (await this.writes.commit(ctx.tx, actor, ctx.catalog, ops)).map((r) => r.id);
    });
  }

  /** Cascade for `deleteResourceType(force: true)`: each live resource gets its DELETED change. */
  async deleteAllOfType(tx: Db, actor: Actor, catalog: Catalog, type: TypeDef): Promise<void> {
    const rows = await selectResources(
      tx,
      sql`${resources.typeId} = ${type.id} and ${resources.deletedAt} is null`,
      sql`for update`,
    );
    for (let i = 0; i < rows.length; i += 500) {
      await this.writes.commit(
        tx,
        actor,
        catalog,
        rows.slice(i, i + 500).map((row) => ({ kind: "delete" as const, type, before: row })),
      );
    }
  }
}

function checkBulk(count: number, argument: string): void {
  if (count === 0 || count > MAX_BULK)
    throw fail.badInput(argument, `${argument} takes 1 to ${MAX_BULK} entries.`);
}

/** Re-labels an error's `field` for bulk items: `items[3].id`, `items[3].expectedVersion`. */
function prefixError(label: string) {
  return (error: unknown): never => {
    if (error instanceof AppError) {
      const field = error.extensions.field;
      const named = label.endsWith(".") ? `${label}${typeof field === "string" ? field : ""}` : label;
      throw new AppError(error.code, `${named}: ${error.message}`, { ...error.extensions, field: named });
    }
    throw error;
  };
}

function renameField(from: string, to: string) {
  return (error: unknown): never => {
    if (error instanceof AppError && error.extensions.field === from) {
      throw new AppError(error.code, error.message, { ...error.extensions, field: to });
    }
    throw error;
  };
}

/** The fields an upsert matches on: 1 to 10 visible fields, each unique or `name`. */
function matchFields(catalog: Catalog, actor: Actor, type: TypeDef, matchOn: string[]): FieldDef[] {
  if (matchOn.length === 0 || matchOn.length > 10) {
    throw fail.badInput("matchOn", "matchOn names 1 to 10 fields whose values identify the resource.");
  }
  return matchOn.map((key) => {
    const field = visibleField(catalog, actor, type, key, "matchOn");
    if (!field.unique && field.key !== "name") {
      throw fail.badInput("matchOn", `${key} is not unique; upsert matches on unique fields (or name).`);
    }
    return field;
  });
}

/** The stored values to find: each match field's value in `values`, which must hold them all. */
function matchValues(
  fields: FieldDef[],
  values: Record<string, unknown>,
  prefix: string,
): Record<string, unknown> {
  const match: Record<string, unknown> = {};
  for (const field of fields) {
    if (values[field.key] == null)
      throw fail.badInput(`${prefix}${field.key}`, `${prefix}${field.key} is needed: matchOn names it.`);
    try {
      match[field.column ?? field.id] = coerceValue(field, values[field.key]);
    } catch (error) {
      if (error instanceof InvalidValue)
        throw fail.badInput(`${prefix}${field.key}`, `${field.key} ${error.message}.`);
      throw error;
    }
  }
  return match;
}

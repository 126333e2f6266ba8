import type { Actor } from "../auth/index.ts";
import { type Db, fail, queryTuples } from "../kernel/index.ts";
import type { Catalog, TypeDef } from "../metadata/index.ts";
import { canReadField } from "../metadata/index.ts";
import { type ChangeKind, diffFields, snapshotOf, storedActor } from "./record.ts";
import { fromTuple, isoText, RESOURCE_COLUMNS } from "./rows.ts";
import type { Sequencer } from "./sequencer.ts";
import type { ResourceRow, StoredFieldChange } from "./tables.ts";
import type { ResourceState } from "./values.ts";

/**
 * THE write path (docs/architecture.md, invariant 1). Every change to a resource — create, update, delete,
 * restore, copy, link, assign, move, bulk items, cascades — is one of these operations, and
 * `commitWrites` writes each row and its change row, in one statement, in the caller's
 * transaction. There is no other code that writes `resources`, so no change can escape the feed.
 */
export type WriteOp =
  | {
      kind: "create";
      type: TypeDef;
      id: string;
      state: ResourceState;
      fieldPrefix?: string;
      /** Links the write statement itself checks (see `CheckedLinks`); else the caller checked them. */
      links?: CheckedLinks;
    }
  | { kind: "update"; type: TypeDef; before: ResourceRow; state: ResourceState; fieldPrefix?: string }
  | { kind: "delete"; type: TypeDef; before: ResourceRow }
  | { kind: "restore"; type: TypeDef; before: ResourceRow };

/**
 * Resources a create links to, checked by its own write statement: the row is written only if each
 * id is a live resource of its type in the workspace, which saves the create a statement (a round
 * trip and a plan) before it. When one is not, nothing is written and `unmet` says which (it throws).
 */
export interface CheckedLinks {
  ids: string[];
  typeIds: string[];
  unmet(): Promise<never>;
}

function cleanValues(values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values))
    if (value !== null && value !== undefined) out[key] = value;
  return out;
}

/**
 * One statement writes a row and appends its change row. The row statement's parameters come
 * first; the change's kind, type key, actor, fields, snapshot, origin and request follow. The change takes the row's
 * workspace, type, id and new version from what was written, and a snapshot of the new state takes
 * its timestamps from it too (they are the database's `now()`).
 */
function withChange(row: { text: string; params: number }, snapshotOfState: "new" | "old"): string {
  const $ = (i: number) => `$${row.params + i}`;
  const snapshot =
    snapshotOfState === "new"
      ? `${$(5)}::jsonb || jsonb_build_object('createdAt', ${isoText("written.created_at")}, 'updatedAt', ${isoText("written.updated_at")})`
      : `${$(5)}::jsonb`;
  return `with written as (${row.text} returning ${RESOURCE_COLUMNS}),
    change as (
      insert into changes (workspace_id, kind, resource_type_id, resource_type_key, resource_id, actor, fields, snapshot, version, origin, request)
      select written.workspace_id, ${$(1)}::change_kind, written.type_id, ${$(2)}::text, written.id, ${$(3)}::jsonb,
             ${$(4)}::jsonb, ${snapshot}, written.version, ${$(6)}::text, ${$(7)}::jsonb
      from written
    )
    select * from written`;
}

/**
 * The bare row writes: fixed text with positional parameters (see `queryTuples`), so each statement
 * is prepared once per connection and never rebuilt. Benchmarks compare against them.
 */
export const ROW_STATEMENTS = {
  create: {
    text: `insert into resources (id, workspace_id, type_id, name, parent_id, assignee_id, created_by_id, values)
           values ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)`,
    params: 8,
  },
  update: {
    text: `update resources set name = $2, parent_id = $3, assignee_id = $4, values = $5::jsonb,
           version = version + 1, updated_at = now() where id = $1`,
    params: 5,
  },
  delete: {
    text: "update resources set deleted_at = now(), version = version + 1, updated_at = now() where id = $1",
    params: 1,
  },
  restore: {
    text: "update resources set deleted_at = null, version = version + 1, updated_at = now() where id = $1",
    params: 1,
  },
} as const;

/** A create whose links are checked in the same statement (`CheckedLinks`): parameters 9 and 10. */
const CREATE_CHECKED_ROW = {
  text: `insert into resources (id, workspace_id, type_id, name, parent_id, assignee_id, created_by_id, values)
         select $1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::jsonb
         where not exists (
           select 1 from unnest($9::text[], $10::text[]) as link(id, type_id)
           where not exists (
             select 1 from resources r
             where r.id = link.id and r.workspace_id = $2::text and r.type_id = link.type_id
               and r.deleted_at is null))`,
  params: 10,
};

/** The row writes with their change rows: what the write path runs. */
const WRITE_STATEMENTS = {
  create: withChange(ROW_STATEMENTS.create, "new"),
  createChecked: withChange(CREATE_CHECKED_ROW, "new"),
  update: withChange(ROW_STATEMENTS.update, "new"),
  delete: withChange(ROW_STATEMENTS.delete, "old"),
  restore: withChange(ROW_STATEMENTS.restore, "new"),
} as const;

/** Timestamps of a state not yet written: the statement replaces them with the database's. */
const NOT_YET_WRITTEN = "1970-01-01T00:00:00.000Z";

/** A unique field's index is `resources_unique_<field id>` (metadata/fieldIndexes.ts). */
const UNIQUE_INDEX_PREFIX = "resources_unique_";

/**
 * The index a unique violation (SQLSTATE 23505) broke, from the driver's error or Drizzle's wrapper
 * around it: postgres.js names it `constraint_name`, PGlite `constraint`. Null for other errors.
 */
function violatedUniqueIndex(error: unknown): string | null {
  for (const candidate of [error, (error as { cause?: unknown } | undefined)?.cause]) {
    const err = candidate as { code?: string; constraint_name?: string; constraint?: string } | undefined;
    if (err?.code === "23505") return err.constraint_name ?? err.constraint ?? null;
  }
  return null;
}

/**
 * A unique-index violation becomes CONFLICT naming the field — unless the actor cannot read it
 * (say, restoring a resource whose hidden unique value was taken meanwhile): a field that does not
 * exist for them is not named. Anything else is rethrown.
 */
function asConflict(error: unknown, actor: Actor, catalog: Catalog, fieldPrefix = ""): never {
  const index = violatedUniqueIndex(error);
  const field = index?.startsWith(UNIQUE_INDEX_PREFIX)
    ? catalog.fieldsById.get(index.slice(UNIQUE_INDEX_PREFIX.length))
    : undefined;
  if (field && !canReadField(catalog, actor, field)) {
    throw fail.conflict(
      "Another resource already has a value this one holds in a field that must be unique; ask an admin.",
    );
  }
  if (field) {
    throw fail.conflict(`Another ${field.key} already has this value; ${field.key} is unique.`, {
      field: `${fieldPrefix}${field.key}`,
    });
  }
  throw error;
}

/** Writes one operation's row and its change row; a no-op update writes neither. */
async function apply(
  tx: Db,
  actor: Actor,
  catalog: Catalog,
  op: WriteOp,
  actorJson: string,
  requestJson: string | null,
): Promise<ResourceRow> {
  const write = async (
    statement: string,
    kind: ChangeKind,
    fields: StoredFieldChange[],
    snapshot: ResourceRow,
    rowParams: unknown[],
  ): Promise<ResourceRow> => {
    const params = [
      ...rowParams,
      kind,
      op.type.key,
      actorJson,
      JSON.stringify(fields),
      JSON.stringify(snapshotOf(op.type, snapshot)),
      actor.origin ?? null,
      requestJson,
    ];
    const [written] = await queryTuples(tx, { text: statement, params }, fromTuple);
    if (written) return written;
    if (op.kind === "create" && op.links) return op.links.unmet();
    throw new Error("the write returned no row");
  };
  try {
    switch (op.kind) {
      case "create": {
        const values = cleanValues(op.state.values);
        const draft: ResourceRow = {
          ...op.state,
          id: op.id,
          workspaceId: actor.workspaceId,
          typeId: op.type.id,
          createdById: actor.memberId,
          values,
          version: 1,
          createdAt: NOT_YET_WRITTEN,
          updatedAt: NOT_YET_WRITTEN,
          deletedAt: null,
        };
        const row = [
          op.id,
          actor.workspaceId,
          op.type.id,
          draft.name,
          draft.parentId,
          draft.assigneeId,
          actor.memberId,
          JSON.stringify(values),
        ];
        const fields = diffFields(op.type, null, draft);
        return op.links
          ? await write(WRITE_STATEMENTS.createChecked, "CREATED", fields, draft, [
              ...row,
              op.links.ids,
              op.links.typeIds,
            ])
          : await write(WRITE_STATEMENTS.create, "CREATED", fields, draft, row);
      }
      case "update": {
        const next = { ...op.before, ...op.state, values: cleanValues(op.state.values) };
        const fields = diffFields(op.type, op.before, next);
        if (fields.length === 0) return op.before; // nothing changed: no write, no change row
        return await write(WRITE_STATEMENTS.update, "UPDATED", fields, next, [
          op.before.id,
          next.name,
          next.parentId,
          next.assigneeId,
          JSON.stringify(next.values),
        ]);
      }
      case "delete":
        return await write(WRITE_STATEMENTS.delete, "DELETED", [], op.before, [op.before.id]);
      case "restore":
        return await write(WRITE_STATEMENTS.restore, "RESTORED", [], op.before, [op.before.id]);
    }
  } catch (error) {
    return asConflict(error, actor, catalog, "fieldPrefix" in op ? op.fieldPrefix : "");
  }
}

/** Applies the operations in order in `tx`; each effective write appends its change row. */
export async function commitWrites(
  tx: Db,
  actor: Actor,
  catalog: Catalog,
  ops: WriteOp[],
): Promise<ResourceRow[]> {
  const actorJson = JSON.stringify(storedActor(actor));
  const requestJson = actor.request ? JSON.stringify(actor.request) : null;
  const rows: ResourceRow[] = [];
  for (const op of ops) rows.push(await apply(tx, actor, catalog, op, actorJson, requestJson));
  return rows;
}

/**
 * The write path as the resource service uses it: `commit` in the request's transaction, then
 * `committed` after the commit. The service takes it as a dependency so that a benchmark can measure
 * the same mutations with a write path that appends no change (bench/changes.ts); Plugboard itself
 * only ever runs `changeCapturingWrites`.
 */
export interface WritePath {
  commit(tx: Db, actor: Actor, catalog: Catalog, ops: WriteOp[]): Promise<ResourceRow[]>;
  /** After the commit: starts numbering the new changes (the caller does not wait for it). */
  committed(workspaceId: string): void;
}

/**
 * Rows and their change rows; after commit, the sequencer is started, not awaited. A write's
 * response does not wait for its change to be numbered: the feed's readers do (`ChangeFeed.settle`),
 * so a client still reads its own writes in `changes`, and writes under load share fewer, larger
 * numbering passes instead of each holding its request open for one.
 */
export function changeCapturingWrites(sequencer: Sequencer): WritePath {
  return { commit: commitWrites, committed: (workspaceId) => void sequencer.kick(workspaceId) };
}

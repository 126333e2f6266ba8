import { sql } from "drizzle-orm";
import type { Actor, Role } from "../auth/index.ts";
import { type Db, fail, queryRows } from "../kernel/index.ts";
import type { Catalog, CatalogStore, SchemaChangeKind, SchemaEvent } from "../metadata/index.ts";
import { canReadField, canReadType } from "../metadata/index.ts";
import { MAX_CHANGES_PAGE, parseCursor } from "./feed.ts";
import { storedActor } from "./record.ts";
import type { StoredActor, StoredRequest } from "./tables.ts";

/** A stored schema change as readers and webhooks see it (after the visibility check). */
export interface SchemaChangeView {
  id: string;
  kind: SchemaChangeKind;
  resourceType: string;
  resourceTypeId: string;
  fieldKey: string | null;
  fieldId: string | null;
  role: Role | null;
  access: string | null;
  actor: StoredActor;
  occurredAt: Date;
  request: StoredRequest | null;
}

interface SchemaChangeRecord {
  seq: number | string;
  kind: SchemaChangeKind;
  resource_type_id: string;
  resource_type_key: string;
  field_id: string | null;
  field_key: string | null;
  role: Role | null;
  access: string | null;
  readable_roles: Role[] | string;
  actor: StoredActor;
  request: StoredRequest | null;
  occurred_at: Date | string;
}

export interface SchemaChangePage {
  nodes: SchemaChangeView[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
  headCursor: string;
}

const DEFAULT_PAGE = 100;

/** PGlite and postgres.js return text[] as an array; a literal `{A,B}` is parsed just in case. */
function rolesOf(value: Role[] | string): Role[] {
  return Array.isArray(value) ? value : (value.replace(/[{}]/g, "").split(",").filter(Boolean) as Role[]);
}

/**
 * Writes schema changes in the metadata transaction (which holds the workspace's metadata lock
 * until it commits): each takes the next dense `seq`. Returns them as an owner sees them.
 */
export async function recordSchemaChanges(
  tx: Db,
  actor: Actor,
  events: SchemaEvent[],
): Promise<(SchemaChangeView & { readableRoles: Role[] })[]> {
  const recorded: (SchemaChangeView & { readableRoles: Role[] })[] = [];
  for (const event of events) {
    const [row] = await queryRows<SchemaChangeRecord>(
      tx,
      sql`insert into schema_changes (workspace_id, seq, kind, resource_type_id, resource_type_key, field_id,
            field_key, role, access, readable_roles, actor, request)
          select ${actor.workspaceId}, coalesce(max(seq), 0) + 1, ${event.kind}::schema_change_kind, ${event.typeId},
            ${event.typeKey}, ${event.fieldId}::text, ${event.fieldKey}::text, ${event.role}::text, ${event.access}::text,
            ${sql.param(event.readableRoles)}::text[], ${JSON.stringify(storedActor(actor))}::jsonb,
            ${actor.request ? JSON.stringify(actor.request) : null}::jsonb
          from schema_changes where workspace_id = ${actor.workspaceId}
          returning *`,
    );
    if (row) recorded.push({ ...viewOf(row), readableRoles: event.readableRoles });
  }
  return recorded;
}

function viewOf(record: SchemaChangeRecord): SchemaChangeView {
  return {
    id: String(record.seq),
    kind: record.kind,
    resourceType: record.resource_type_key,
    resourceTypeId: record.resource_type_id,
    fieldKey: record.field_key,
    fieldId: record.field_id,
    role: record.role,
    access: record.access,
    actor: record.actor,
    occurredAt: new Date(record.occurred_at),
    request: record.request ?? null,
  };
}

/**
 * Whether a reader may see a schema change: its role could read what changed when it changed,
 * and a type or field that still exists is still readable for it. A hidden type's or field's
 * changes do not exist for the reader.
 */
export function canSeeSchemaChange(
  catalog: Catalog,
  actor: Actor,
  change: { resourceTypeId: string; fieldId: string | null; readableRoles: Role[] },
): boolean {
  if (!actor.scopes.includes("READ")) return false;
  if (actor.role !== "OWNER" && !change.readableRoles.includes(actor.role)) return false;
  const type = catalog.typesById.get(change.resourceTypeId);
  if (type && !canReadType(catalog, actor, type)) return false;
  const field = change.fieldId ? catalog.fieldsById.get(change.fieldId) : undefined;
  return !field || canReadField(catalog, actor, field);
}

/** `Query.schemaChanges` and the `schemaChanges` subscription: the schema change log, trimmed per reader. */
export class SchemaChangeFeed {
  constructor(
    private readonly db: Db,
    private readonly catalogs: CatalogStore,
  ) {}

  /** Up to `limit` stored changes after `after`, and the newest id. */
  async readAfter(
    workspaceId: string,
    after: number,
    limit: number,
  ): Promise<{ records: SchemaChangeRecord[]; head: number }> {
    const rows = await queryRows<SchemaChangeRecord & { head: number | string | null }>(
      this.db,
      sql`select (select max(seq) from schema_changes where workspace_id = ${workspaceId}) as head, c.*
          from (select 1) one
          left join lateral (select * from schema_changes where workspace_id = ${workspaceId} and seq > ${after}
                             order by seq limit ${limit}) c on true`,
    );
    const head = Number(rows[0]?.head ?? 0);
    return { records: rows.filter((r) => r.seq !== null), head };
  }

  /** The visible changes of a page of records, and how far the page scanned. */
  async visiblePage(
    actor: Actor,
    after: number,
    limit: number,
  ): Promise<{ nodes: SchemaChangeView[]; scannedTo: number; head: number }> {
    const catalog = await this.catalogs.get(actor.workspaceId);
    const { records, head } = await this.readAfter(actor.workspaceId, after, limit);
    const nodes = records
      .filter((r) =>
        canSeeSchemaChange(catalog, actor, {
          resourceTypeId: r.resource_type_id,
          fieldId: r.field_id,
          readableRoles: rolesOf(r.readable_roles),
        }),
      )
      .map(viewOf);
    const last = records[records.length - 1];
    const scannedTo = records.length === limit && last ? Number(last.seq) : Math.max(head, after);
    return { nodes, scannedTo, head };
  }

  async page(
    actor: Actor,
    args: { after?: string | null; first?: number | null },
  ): Promise<SchemaChangePage> {
    const after = parseCursor(args.after) ?? 0;
    const size = args.first ?? DEFAULT_PAGE;
    if (!Number.isInteger(size) || size < 1 || size > MAX_CHANGES_PAGE)
      throw fail.badInput("first", `first must be between 1 and ${MAX_CHANGES_PAGE}.`);
    const { nodes, scannedTo, head } = await this.visiblePage(actor, after, size);
    if (after > head)
      throw fail.badInput(
        "after",
        `after "${after}" is past the newest schema change "${head}"; use headCursor.`,
        {
          headCursor: String(head),
        },
      );
    return {
      nodes,
      hasNextPage: scannedTo < head,
      hasPreviousPage: after > 0,
      startCursor: nodes[0]?.id ?? null,
      endCursor: String(scannedTo),
      headCursor: String(head),
    };
  }
}

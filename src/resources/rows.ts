import { type SQL, sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/client.ts";
import type { ResourceRow } from "./tables.ts";

/**
 * Reads of resource rows on the hot paths (list pages, the per-request loader) skip Drizzle's
 * query builder and row mapping: a page of 50 spent ~12% of its CPU there. The SQL is still built
 * with Drizzle's `sql` template and runs as a prepared statement.
 */
export const RESOURCE_COLUMNS = `"resources"."id", "resources"."workspace_id", "resources"."type_id", "resources"."name",
   "resources"."parent_id", "resources"."assignee_id", "resources"."created_by_id", "resources"."values",
   "resources"."version", "resources"."created_at", "resources"."updated_at", "resources"."deleted_at"`;
const COLUMNS = sql.raw(RESOURCE_COLUMNS);

/** A `resources` row as the drivers return it for RESOURCE_COLUMNS. */
export interface RawResource {
  id: string;
  workspace_id: string;
  type_id: string;
  name: string | null;
  parent_id: string | null;
  assignee_id: string | null;
  created_by_id: string | null;
  values: Record<string, unknown> | string;
  version: number;
  /** Both drivers hand timestamps over as PostgreSQL's text (Drizzle turns their parsers off). */
  created_at: string | Date;
  updated_at: string | Date;
  deleted_at: string | Date | null;
}

const toDate = (value: string | Date): Date => (value instanceof Date ? value : new Date(value));

export function fromRaw(raw: RawResource): ResourceRow {
  return {
    id: raw.id,
    workspaceId: raw.workspace_id,
    typeId: raw.type_id,
    name: raw.name,
    parentId: raw.parent_id,
    assigneeId: raw.assignee_id,
    createdById: raw.created_by_id,
    values: typeof raw.values === "string" ? JSON.parse(raw.values) : raw.values,
    version: raw.version,
    createdAt: toDate(raw.created_at),
    updatedAt: toDate(raw.updated_at),
    deletedAt: raw.deleted_at === null ? null : toDate(raw.deleted_at),
  };
}

/** `select <every column> from resources where <where> <rest>` (rest: order by, limit). */
export async function selectResources(db: Db, where: SQL, rest: SQL = sql``): Promise<ResourceRow[]> {
  const rows = await queryRows<RawResource>(
    db,
    sql`select ${COLUMNS} from "resources" where ${where} ${rest}`,
  );
  return rows.map(fromRaw);
}

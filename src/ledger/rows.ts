import { type SQL, sql } from "drizzle-orm";
import { type Db, PLANNED_PER_EXECUTION, queryTuples } from "../kernel/index.ts";
import { sqlIdLiteral } from "../metadata/index.ts";
import type { ResourceRow } from "./tables.ts";

// Every read of resource rows goes through this module and skips Drizzle's query builder and row
// mapping (a page of 50 spent ~12% of its CPU there); statements still run prepared.

/**
 * A timestamp column as ISO 8601 text in UTC with milliseconds (what `Date#toISOString` gives), for
 * timestamps that stay in SQL (change snapshots). Rows read into Node take `isoTimestamp` instead:
 * `to_char` on every row made PostgreSQL's side of a page of 50 ~25% dearer.
 */
export const isoText = (column: string) =>
  `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** Every column of `resources`, in the order `fromTuple` reads them. */
export const RESOURCE_COLUMNS = `"resources"."id", "resources"."workspace_id", "resources"."type_id", "resources"."name",
   "resources"."parent_id", "resources"."assignee_id", "resources"."created_by_id", "resources"."values",
   "resources"."version", "resources"."created_at", "resources"."updated_at", "resources"."deleted_at"`;
const COLUMNS = sql.raw(RESOURCE_COLUMNS);

/** How PostgreSQL prints a timestamptz with DateStyle ISO: fractional digits trimmed, any offset. */
const PRINTED_TIMESTAMP = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?([+-]\d\d(?::\d\d)?)$/;

/**
 * A timestamptz as both drivers hand it over (text; sessions run in UTC, see `openDatabase`) as
 * ISO 8601 in UTC with milliseconds: "2026-11-28 03:43:20.236+00" → "2026-11-28T03:43:20.236Z".
 */
export function isoTimestamp(printed: string): string {
  if (printed.length === 26 && printed.endsWith("+00")) {
    return `${printed.slice(0, 10)}T${printed.slice(11, 23)}Z`;
  }
  const match = PRINTED_TIMESTAMP.exec(printed);
  if (!match) throw new Error(`unexpected timestamp from the database: ${printed}`);
  const [, date, time, fraction = "", offset = "+00"] = match;
  const millis = fraction.padEnd(3, "0").slice(0, 3);
  if (offset === "+00") return `${date}T${time}.${millis}Z`;
  return new Date(`${date}T${time}.${millis}${offset.length === 3 ? `${offset}:00` : offset}`).toISOString();
}

/** A `resources` row in RESOURCE_COLUMNS order (the drivers' array mode) as a `ResourceRow`. */
export function fromTuple(row: unknown[]): ResourceRow {
  const values = row[7] as Record<string, unknown> | string;
  const deletedAt = row[11] as string | null;
  return {
    id: row[0] as string,
    workspaceId: row[1] as string,
    typeId: row[2] as string,
    name: row[3] as string | null,
    parentId: row[4] as string | null,
    assigneeId: row[5] as string | null,
    createdById: row[6] as string | null,
    values: typeof values === "string" ? JSON.parse(values) : values,
    version: row[8] as number,
    createdAt: isoTimestamp(row[9] as string),
    updatedAt: isoTimestamp(row[10] as string),
    deletedAt: deletedAt === null ? null : isoTimestamp(deletedAt),
  };
}

/**
 * `select <every column> from resources where <where> <rest>` (rest: order by, limit); planned
 * for its parameters on every execution when `planEachTime` (see `PLANNED_PER_EXECUTION`).
 */
export function selectResources(
  db: Db,
  where: SQL,
  rest: SQL = sql``,
  planEachTime = false,
): Promise<ResourceRow[]> {
  const lead = sql.raw(planEachTime ? PLANNED_PER_EXECUTION : "");
  return queryTuples(db, sql`${lead}select ${COLUMNS} from "resources" where ${where} ${rest}`, fromTuple);
}

/**
 * A page of resources and, in the same statement, the rows its LINKS fields `linkedFieldIds` point
 * to (in the workspace; the caller applies the access policy to them, as the resource loader
 * does): a listing that shows its links' names costs one round trip, not two. The page rows come
 * first, in the page's order: a UNION ALL runs its branches one after the other, and a
 * materialized CTE returns its rows as its ORDER BY produced them. Prepared statements only: the
 * links' part makes PostgreSQL's planning twice as dear, and a prepared statement plans once.
 */
export async function selectPageWithLinked(
  db: Db,
  where: SQL,
  rest: SQL,
  workspaceId: string,
  linkedFieldIds: readonly string[],
): Promise<{ rows: ResourceRow[]; linked: ResourceRow[] }> {
  const ids = sql.raw(
    linkedFieldIds
      .map((id) => `select jsonb_array_elements_text("page"."values" -> ${sqlIdLiteral(id)}) from "page"`)
      .join(" union all "),
  );
  const rows: ResourceRow[] = [];
  const linked: ResourceRow[] = [];
  await queryTuples(
    db,
    sql`with "page" as materialized (select ${COLUMNS} from "resources" where ${where} ${rest})
      select "page".*, false from "page"
      union all
      select ${COLUMNS}, true from "resources"
      where "resources"."workspace_id" = ${workspaceId} and "resources"."id" in (${ids})`,
    (tuple) => (tuple[12] ? linked : rows).push(fromTuple(tuple)),
  );
  return { rows, linked };
}

const BY_IDS = `select ${RESOURCE_COLUMNS} from "resources" where "resources"."workspace_id" = $1 and "resources"."id" = any($2::text[])`;

/**
 * A workspace's resources by id, in any order (the per-request loader's batch). Fixed text with
 * one array parameter, so every batch size shares one prepared statement.
 */
export async function resourcesByIds(
  db: Db,
  workspaceId: string,
  ids: readonly string[],
): Promise<ResourceRow[]> {
  return queryTuples(db, { text: BY_IDS, params: [workspaceId, ids] }, fromTuple);
}

import { type SQL, sql } from "drizzle-orm";
import { type Db, PLANNED_PER_EXECUTION, queryTuples, renderSql } from "../kernel/index.ts";
import { sqlIdLiteral } from "../metadata/index.ts";
import type { StringEquality } from "./filters.ts";
import { type ResourceRow, VALUE_KEY_LENGTH } from "./tables.ts";

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

/** `select <every column> from resources where <where> <rest>` (rest: locking, limit), as whole rows. */
export function selectResources(db: Db, where: SQL, rest: SQL = sql``): Promise<ResourceRow[]> {
  return queryTuples(db, sql`select ${COLUMNS} from "resources" where ${where} ${rest}`, fromTuple);
}

/**
 * The columns of `resources` a listing leaves unread when its selection does not show them (a page
 * of 50 names need not carry 50 timestamps, versions and JSONB documents: PostgreSQL printing them
 * and postgres.js parsing them were about a quarter of a list's cost). A row's id, workspace, type
 * and deletion — what the access policy reads — are always read. Property → column.
 */
const OPTIONAL_COLUMNS = {
  name: "name",
  parentId: "parent_id",
  assigneeId: "assignee_id",
  createdById: "created_by_id",
  values: "values",
  version: "version",
  createdAt: "created_at",
  updatedAt: "updated_at",
} as const;
export type OptionalColumn = keyof typeof OPTIONAL_COLUMNS;
const OPTIONAL = Object.keys(OPTIONAL_COLUMNS) as OptionalColumn[];

/** Every optional column: what a listing reads when it cannot tell what its selection shows. */
export const ALL_COLUMNS: ReadonlySet<OptionalColumn> = new Set(OPTIONAL);

/**
 * A row as a listing read it: a whole `ResourceRow`, or one whose unread optional columns are
 * undefined (never null: null is a value). Read those through `columnOf`.
 */
export type ListedRow = Omit<ResourceRow, OptionalColumn> & Partial<Pick<ResourceRow, OptionalColumn>>;

/**
 * A column of a listed row. Throws when the listing did not read it: a selection that reaches a
 * column it did not declare is a bug to see as an error, never to answer as a missing value.
 */
export function columnOf<K extends OptionalColumn>(row: ListedRow, column: K): ResourceRow[K] {
  const value = row[column];
  if (value === undefined) throw new Error(`resource column ${column} was not read for this selection`);
  return value as ResourceRow[K];
}

/** The ids the LINKS fields `fieldIds` of `rows` hold, each once. */
export function linkedIds(rows: readonly ListedRow[], fieldIds: readonly string[]): Set<string> {
  const ids = new Set<string>();
  for (const row of rows) {
    const values = columnOf(row, "values");
    for (const fieldId of fieldIds) {
      for (const id of (values[fieldId] as string[] | undefined) ?? []) ids.add(id);
    }
  }
  return ids;
}

/**
 * The keys (field ids) of `values` a listing reads, or undefined for the whole document. A page that
 * shows two fields of contacts with forty need not carry forty: PostgreSQL printing each document
 * and postgres.js parsing it took a list's server CPU from ~640 to ~1,550 µs per request with twenty
 * extra keys of ~40 characters per contact. Each key read is a column of its own (`values -> key`):
 * rebuilding a smaller document in SQL cost PostgreSQL 15–45% more per page than the whole one.
 */
export type ValueKeys = ReadonlySet<string> | undefined;

/** Above this many keys a listing reads the whole document (each is a column of the statement). */
export const MAX_VALUE_KEYS = 50;

/**
 * How one statement lays out listed rows: the four fixed columns, then `layout`, where `values` is
 * one column, or with `keys` one text column per key (SQL null: the row does not have it).
 */
interface RowLayout {
  /** The optional columns in the statement, in order. */
  layout: readonly OptionalColumn[];
  /** How many columns a row of this layout has. */
  width: number;
  /** `layout` as a select list from `alias`, with null for those of `layout` not in `read`. */
  selectList(alias: string, read: ReadonlySet<OptionalColumn>): string;
  /** A tuple of this layout as a row that has exactly the columns of `read`. */
  decoder(read: ReadonlySet<OptionalColumn>): (tuple: unknown[]) => ListedRow;
}

const FIXED = 4; // id, workspace_id, type_id, deleted_at

function rowLayout(layout: readonly OptionalColumn[], keys?: readonly string[]): RowLayout {
  const position = new Map<OptionalColumn, number>();
  let width = FIXED;
  for (const c of layout) {
    position.set(c, width);
    width += c === "values" && keys ? keys.length : 1;
  }
  const columnsOf = (alias: string, c: OptionalColumn, read: boolean): string[] =>
    c === "values" && keys
      ? keys.map((key) => (read ? `("${alias}"."values" -> ${sqlIdLiteral(key)})::text` : "null"))
      : [read ? `"${alias}"."${OPTIONAL_COLUMNS[c]}"` : "null"];
  return {
    layout,
    width,
    selectList: (alias, read) =>
      [
        ...["id", "workspace_id", "type_id", "deleted_at"].map((c) => `"${alias}"."${c}"`),
        ...layout.flatMap((c) => columnsOf(alias, c, read.has(c))),
      ].join(", "),
    decoder(read) {
      const at = (c: OptionalColumn) => (read.has(c) ? (position.get(c) as number) : -1);
      const [name, parentId, assigneeId, createdById] = [
        at("name"),
        at("parentId"),
        at("assigneeId"),
        at("createdById"),
      ];
      const [values, version, createdAt, updatedAt] = [
        at("values"),
        at("version"),
        at("createdAt"),
        at("updatedAt"),
      ];
      const text = (t: unknown[], i: number) => (i < 0 ? undefined : (t[i] as string | null));
      const time = (t: unknown[], i: number) => (i < 0 ? undefined : isoTimestamp(t[i] as string));
      const document = (t: unknown[]) => {
        if (values < 0) return undefined;
        if (keys) return keyedDocument(t, values, keys);
        const whole = t[values] as Record<string, unknown> | string;
        return typeof whole === "string" ? JSON.parse(whole) : whole;
      };
      return (t) => {
        const deletedAt = t[3] as string | null;
        return {
          id: t[0] as string,
          workspaceId: t[1] as string,
          typeId: t[2] as string,
          deletedAt: deletedAt === null ? null : isoTimestamp(deletedAt),
          name: text(t, name),
          parentId: text(t, parentId),
          assigneeId: text(t, assigneeId),
          createdById: text(t, createdById),
          values: document(t),
          version: version < 0 ? undefined : (t[version] as number),
          createdAt: time(t, createdAt),
          updatedAt: time(t, updatedAt),
        };
      };
    },
  };
}

/** The document of the keys read from `from` on (as JSON text; null: the row does not have the key). */
function keyedDocument(t: unknown[], from: number, keys: readonly string[]): Record<string, unknown> {
  const document: Record<string, unknown> = {};
  for (let i = 0; i < keys.length; i++) {
    const text = t[from + i] as string | null;
    if (text !== null) document[keys[i] as string] = JSON.parse(text);
  }
  return document;
}

/** A layout and how to read all of its columns from `resources`. */
interface FullLayout extends RowLayout {
  select: string;
  decode: (tuple: unknown[]) => ListedRow;
}

function fullLayout(layout: readonly OptionalColumn[], keys?: readonly string[]): FullLayout {
  const made = rowLayout(layout, keys);
  const all = new Set(layout);
  return { ...made, select: made.selectList("resources", all), decode: made.decoder(all) };
}

/** Whole-document layouts by the columns they hold (at most 2^8 of them), made once. */
const layouts = new Map<string, FullLayout>();

/**
 * Layouts with some keys of `values`, by columns and keys. The keys are a client's choice (field
 * ids the catalog has), so the cache starts over when full rather than grow without bound; a
 * connector sends the same few queries, and making a layout took ~2% of a filtered page's CPU.
 */
const keyedLayouts = new Map<string, FullLayout>();
const MAX_KEYED_LAYOUTS = 1_000;

/** The layout of `columns`, with of `values` only `keys` when given (in key order: one statement text per set). */
function layoutOf(columns: ReadonlySet<OptionalColumn>, keys?: ValueKeys): FullLayout {
  const layout = OPTIONAL.filter((c) => columns.has(c));
  const keyed = keys && columns.has("values") && keys.size <= MAX_VALUE_KEYS ? [...keys].sort() : undefined;
  const key = keyed ? `${layout.join()}|${keyed.join()}` : layout.join();
  const cache = keyed ? keyedLayouts : layouts;
  let found = cache.get(key);
  if (!found) {
    if (keyed && keyedLayouts.size >= MAX_KEYED_LAYOUTS) keyedLayouts.clear();
    found = fullLayout(layout, keyed);
    cache.set(key, found);
  }
  return found;
}

/** The rows a listing reads: `resources`, or those joined to `resource_string_values` ("l"). */
const RESOURCES = sql.raw(`"resources"`);

/**
 * A listing of the resources whose field `equality.fieldId` holds the string `equality.value`,
 * driven by `resource_string_values` (see its table): the `from` to list from and the condition
 * that picks the string's rows. The lookup keeps a prefix; the caller's filter still tests
 * `values` (its `eq` leaf). Its rows come out in resource id order, which `after`/`before` (a
 * resource id) bounds, so a page in id order is a range of its index.
 */
export function stringValueSource(
  workspaceId: string,
  equality: StringEquality,
  bound?: { id: string; descending: boolean },
): { from: SQL; where: SQL } {
  const range = bound
    ? sql` and "l"."resource_id" ${sql.raw(bound.descending ? "<" : ">")} ${bound.id}`
    : sql``;
  return {
    from: sql.raw(`"resource_string_values" "l" join "resources" on "resources"."id" = "l"."resource_id"`),
    where: sql`"l"."workspace_id" = ${workspaceId} and "l"."field_id" = ${equality.fieldId}
      and "l"."value" = left(${equality.value}::text, ${sql.raw(String(VALUE_KEY_LENGTH))})${range}`,
  };
}

/**
 * `select <columns> from <from> where <where> <rest>` for a listing (`from`: `resources`, or as
 * `stringValueSource` gives it): the fixed columns and `columns` (of `values`, `keys` when given);
 * planned for its parameters on every execution when `planEachTime`.
 */
export function listRows(
  db: Db,
  where: SQL,
  rest: SQL,
  planEachTime: boolean,
  columns: ReadonlySet<OptionalColumn>,
  from: SQL = RESOURCES,
  keys?: ValueKeys,
): Promise<ListedRow[]> {
  const lead = sql.raw(planEachTime ? PLANNED_PER_EXECUTION : "");
  const { select, decode } = layoutOf(columns, keys);
  return queryTuples(db, sql`${lead}select ${sql.raw(select)} from ${from} where ${where} ${rest}`, decode);
}

/**
 * A page whose rows PostgreSQL renders as JSON text (resources/renderedReads.ts): each page row as
 * `segments` (expressions over "resources") with, between each two, the ids one LINKS field holds;
 * and the rows those ids point to, as `links`' nodes.
 */
export interface RenderedPage {
  /** Per page row: segment 0, then per link its ids (a JSON array's text) and the next segment. */
  rows: string[][];
  /** The linked rows `linkedWhere` admits, by id: per link, its node's JSON text. */
  linked: Map<string, string[]>;
}

/**
 * Joins a row's texts into one column: the driver reads one value per row instead of one per part
 * (a page of 50 with links was 500 values). JSON text never holds a raw control character (to_json
 * and jsonb escape them), so U+0001 separates the parts unambiguously.
 */
const joined = (parts: SQL[]) => sql`concat_ws(chr(1), ${sql.join(parts, sql`, `)})`;
const PART = "\u0001";

/**
 * What a rendered page's statement selects, apart from which rows: the same for every page of one
 * selection, type and policy, so built once (resources/renderedReads.ts keeps it). `segments` are
 * a page row's JSON texts (expressions over "resources") with, between each two, the ids one of
 * `links` holds; `links[i].node` renders a linked row; `linkedWhere` is the access policy's
 * condition on linked rows.
 */
export interface RenderedSelect {
  /** A page row's one column: its segments, each link's ids between them. */
  row: SQL;
  /** A linked row's one column: its id, then each link's node. */
  linkedRow: SQL;
  linkedWhere: SQL;
  /** Per link, its ids as a column of the page ("l0", "l1", …). */
  lists: SQL[];
  /** Every link's ids from the "page" CTE's lists. */
  allIds: SQL;
}

/**
 * A fragment without parameters as one raw chunk: a kept select is then walked once, not on every
 * request (`renderSql` walked a page's node expressions chunk by chunk: a few % of a read's CPU).
 */
function flat(fragment: SQL): SQL {
  const rendered = renderSql(fragment);
  return rendered.params.length ? fragment : sql.raw(rendered.sql);
}

const idsOf = (fieldId: string) => sql.raw(`("resources"."values" -> ${sqlIdLiteral(fieldId)})`);

export function renderedSelect(
  segments: SQL[],
  links: readonly { fieldId: string; node: SQL }[],
  linkedWhere: SQL,
  /** Whether a page row ends with its id (for its cursor). */
  withId = false,
): RenderedSelect {
  // s0, l0, s1, l1, …, sK: a page row's segments with each link's ids between them.
  const rowParts = segments.flatMap((segment, i) => {
    const link = links[i];
    return link ? [segment, sql`coalesce(${idsOf(link.fieldId)}::text, '[]')`] : [segment];
  });
  if (withId) rowParts.push(sql.raw(`"resources"."id"`));
  return {
    row: flat(joined(rowParts)),
    linkedRow: flat(joined([sql.raw(`"resources"."id"`), ...links.map((link) => link.node)])),
    linkedWhere,
    lists: links.map((link, i) => flat(sql`${idsOf(link.fieldId)} as ${sql.raw(`"l${i}"`)}`)),
    allIds: sql.raw(
      links.map((_, i) => `select jsonb_array_elements_text("l${i}") from "page"`).join(" union all "),
    ),
  };
}

/** Which rows a rendered page reads (resources/query.ts's page statement). */
export interface RenderedPageQuery {
  where: SQL;
  rest: SQL;
  from?: SQL;
  planEachTime: boolean;
}

/**
 * Whether a rendered page reads its links' rows in a second statement: when it shows none, or is
 * planned on every execution (see `selectPageWithLinked`).
 */
const linksApart = (planEachTime: boolean, select: RenderedSelect) =>
  select.lists.length === 0 || planEachTime;

/**
 * The statement that reads a `RenderedPage`: like `selectPageWithLinked`, the links' rows come in
 * the same statement (one lookup of every id on the primary key), except for a page planned on
 * every execution, whose links `readRenderedPage` reads apart. A page row's text starts with its
 * first segment ("{"), a linked row's with its id.
 */
export function renderedPageStatement(page: RenderedPageQuery, select: RenderedSelect): SQL {
  const from = page.from ?? RESOURCES;
  const lead = sql.raw(page.planEachTime ? PLANNED_PER_EXECUTION : "");
  const { row, linkedRow, linkedWhere, lists, allIds } = select;
  if (linksApart(page.planEachTime, select))
    return sql`${lead}select ${row} from ${from} where ${page.where} ${page.rest}`;
  return sql`with "page" as materialized (select ${row} as "row", ${sql.join(lists, sql`, `)} from ${from} where ${page.where} ${page.rest})
      select "row" from "page"
      union all
      select ${linkedRow} from "resources"
      where ${linkedWhere} and "resources"."id" = any(array(${allIds}))`;
}

/**
 * Reads a `RenderedPage` with `statement` (`renderedPageStatement` of a page, rendered; whether
 * it is planned on every execution), and its links' rows apart when they are not in it.
 */
export async function readRenderedPage(
  db: Db,
  statement: { sql: string; params: unknown[] },
  planEachTime: boolean,
  select: RenderedSelect,
): Promise<RenderedPage> {
  const { linkedRow, linkedWhere, lists } = select;
  const rows: string[][] = [];
  const linked = new Map<string, string[]>();
  const take = (tuple: unknown[]) => {
    const parts = (tuple[0] as string).split(PART);
    if (parts[0]?.startsWith("{")) rows.push(parts);
    else linked.set(parts[0] as string, parts.slice(1));
  };
  await queryTuples(db, { text: statement.sql, params: statement.params }, take);
  if (!linksApart(planEachTime, select)) return { rows, linked };
  const wanted = new Set<string>();
  for (const parts of rows)
    for (let i = 0; i < lists.length; i++) for (const id of linkIds(parts[2 * i + 1])) wanted.add(id);
  if (wanted.size) {
    await queryTuples(
      db,
      sql`select ${linkedRow} from "resources" where ${linkedWhere} and "resources"."id" = any(${sql.param([...wanted])}::text[])`,
      take,
    );
  }
  return { rows, linked };
}

/** The ids of a LINKS value's JSON text. */
export function linkIds(text: string | undefined): string[] {
  return text === undefined ? [] : (JSON.parse(text) as string[]);
}

/**
 * A page of resources and, in the same statement, the rows its LINKS fields `linkedFieldIds` point
 * to (in the workspace; the caller applies the access policy to them, as the resource loader
 * does): a listing that shows its links' names costs one round trip, not two. Each part reads its
 * own columns (null in the other's). The page rows come first, in the page's order: a
 * UNION ALL runs its branches one after the other, and a materialized CTE returns its rows as its
 * ORDER BY produced them. Prepared statements only: the links' part makes PostgreSQL's planning
 * twice as dear, and a prepared statement plans once. The linked ids go in as one array (`= any`):
 * one scan of the primary key takes them all, where `in (select …)` hashed them and probed the key
 * once per id (the benchmark's page of 50 names with their accounts: pgbench ran the statement
 * 4,700 → 5,600 times a second; bench:peers, PostgreSQL's CPU per list 163 → 147 µs).
 */
export async function selectPageWithLinked(
  db: Db,
  page: { where: SQL; rest: SQL; columns: ReadonlySet<OptionalColumn>; keys?: ValueKeys; from?: SQL },
  linked: {
    workspaceId: string;
    fieldIds: readonly string[];
    columns: ReadonlySet<OptionalColumn>;
    keys?: ValueKeys;
  },
): Promise<{ rows: ListedRow[]; linked: ListedRow[] }> {
  const ids = linked.fieldIds
    .map((id) => `select jsonb_array_elements_text("page"."values" -> ${sqlIdLiteral(id)}) from "page"`)
    .join(" union all ");
  // The page reads its links' ids from its values, whether or not its selection shows them.
  const pageRead = new Set([...page.columns, "values" as const]);
  // One layout for both parts: each reads the keys either shows (the whole document if one needs it).
  const keys = keysOfAll([
    page.columns.has("values") ? page.keys : new Set(),
    linked.columns.has("values") ? linked.keys : new Set(),
  ]);
  const both = layoutOf(new Set([...page.columns, ...linked.columns]), keys);
  const decodePage = both.decoder(page.columns);
  const decodeLinked = both.decoder(linked.columns);
  const rows: ListedRow[] = [];
  const linkedRows: ListedRow[] = [];
  await queryTuples(
    db,
    sql`with "page" as materialized (select ${sql.raw(layoutOf(pageRead).select)} from ${page.from ?? RESOURCES}
        where ${page.where} ${page.rest})
      select ${sql.raw(both.selectList("page", page.columns))}, false from "page"
      union all
      select ${sql.raw(both.selectList("resources", linked.columns))}, true from "resources"
      where "resources"."workspace_id" = ${linked.workspaceId} and "resources"."id" = any(array(${sql.raw(ids)}))`,
    (tuple) => (tuple[both.width] ? linkedRows.push(decodeLinked(tuple)) : rows.push(decodePage(tuple))),
  );
  return { rows, linked: linkedRows };
}

/** The keys every one of `reads` needs; the whole document if any needs it. */
export function keysOfAll(reads: readonly ValueKeys[]): ValueKeys {
  const keys = new Set<string>();
  for (const read of reads) {
    if (!read) return undefined;
    for (const key of read) keys.add(key);
  }
  return keys;
}

/**
 * The rows the LINKS fields `fieldIds` of `page` point to, with `columns` (of `values`, `keys`; in the workspace, live
 * or not: the caller applies the access policy). For a page whose links could not be read in its
 * own statement (`selectPageWithLinked`); one array parameter, so every page shares one prepared
 * statement per column set.
 */
export async function linkedRowsOf(
  db: Db,
  workspaceId: string,
  page: readonly ListedRow[],
  fieldIds: readonly string[],
  columns: ReadonlySet<OptionalColumn>,
  keys?: ValueKeys,
): Promise<ListedRow[]> {
  const ids = linkedIds(page, fieldIds);
  if (ids.size === 0) return [];
  const { select, decode } = layoutOf(columns, keys);
  const text = `select ${select} from "resources" where "resources"."workspace_id" = $1 and "resources"."id" = any($2::text[])`;
  return queryTuples(db, { text, params: [workspaceId, [...ids]] }, decode);
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

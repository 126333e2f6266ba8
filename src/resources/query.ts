import { createHash } from "node:crypto";
import { type SQL, sql } from "drizzle-orm";
import type { Actor } from "../auth/index.ts";
import { type Db, fail, hole, PLANNED_PER_EXECUTION, queryRows } from "../kernel/index.ts";
import {
  ALL_COLUMNS,
  compileFilter,
  fieldColumn,
  fieldValue,
  keysOfAll,
  type ListedRow,
  linkedRowsOf,
  listRows,
  matchToFilter,
  type OptionalColumn,
  type ResourceFilter,
  resolveFilterField,
  type Sortable,
  type StringEquality,
  selectPageWithLinked,
  sortColumns,
  stringEquality,
  stringValueSource,
  type ValueKeys,
} from "../ledger/index.ts";
import type { Catalog, TypeDef } from "../metadata/index.ts";
import {
  canReadField,
  childTypes,
  fieldTypes,
  InvalidValue,
  isSortable,
  MAX_TEXT,
  normalizeDateTime,
  readableResourcesSql,
  visibleType,
} from "../metadata/index.ts";
import { columnsShown, type NodeSelection, valueKeysShown } from "./selection.ts";

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 500;

export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export interface ListArgs extends PageArgs {
  type: string;
  where?: ResourceFilter | null;
  match?: unknown;
  orderBy?: { field: string; direction?: "ASC" | "DESC" | null }[] | null;
  /** What the nodes select (`nodeSelection`): the columns to read, the links to read with the page. */
  selection?: NodeSelection;
}

export interface Connection<T> {
  nodes: T[];
  /** The cursor of `nodes[index]`, encoded on demand: most clients select nodes, not edges. */
  cursorAt(index: number): string;
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
  /** Counted only when the client asks for it. */
  totalCount: () => number | Promise<number>;
  /**
   * What the page's LINKS fields `fieldIds` point to, read with the page (`rows`: any type, live or
   * not, with the columns the links' selection shows): the caller runs them through the access
   * policy and keeps them with the page (`ResourcePage`).
   */
  linked?: { fieldIds: readonly string[]; rows: readonly T[] };
}

export interface SortKey {
  target: Sortable;
  descending: boolean;
  /** What ORDER BY and the keyset compare, as the key's index spells it (see `sortColumns`). */
  columns: SQL[];
  /** A cursor value as the values compared with `columns`. */
  bind(value: unknown): SQL[];
}

/**
 * The column of an order by id alone, in byte order: only the type's index `(workspace_id, type_id,
 * id collate "C")` gives it (drizzle/0010). Ordered by the plain id, the primary key gave it too,
 * and PostgreSQL took that smaller index when nearly every row was of the type, reading (and
 * dropping) other types' rows sorted before the type's first. A bound that kept the primary key
 * out by looking to the planner like "no row" let it take any of the type's indexes and sort:
 * every contact read for a first page (test/resources/firstPagePlan.test.ts). For Plugboard's ids
 * (`res_`, then lowercase letters and digits) byte order and the usual collations agree, so a
 * cursor means the same position under either spelling (a string equality's page sorts by the
 * plain id: see `paginate`).
 */
const idOrderColumn = sql.raw(`"resources"."id" collate "C"`);

function sortKey(target: Sortable, descending: boolean, byteOrder = false): SortKey {
  if (target.kind === "id" && byteOrder)
    return { target, descending, columns: [idOrderColumn], bind: (v) => [sql`${v}`] };
  const { isNull, value, numeric } = sortColumns(target);
  const column = target.kind === "field" ? target.field.column : null;
  const cast = column === "created_at" || column === "updated_at" ? sql`::timestamptz` : sql``;
  if (!isNull) return { target, descending, columns: [value], bind: (v) => [sql`${v}${cast}`] };
  const placeholder = sql.raw(numeric ? "0" : "''");
  return {
    target,
    descending,
    columns: [isNull, value],
    bind: (v) => (v === null ? [sql.raw("true"), placeholder] : [sql.raw("false"), sql`${v}`]),
  };
}

/** A cursor longer than this was not made here (three sort values of at most 10,000 characters). */
const MAX_CURSOR = 50_000;

/** Signatures by order spec: a hash per paged request was ~1% of a page's server CPU. Bounded. */
const signatures = new Map<string, string>();

/**
 * What a cursor's position means: the sort keys (field ids, so a rename keeps cursors valid) and
 * their directions, hashed short. A cursor carries it, so one made under another orderBy — whose
 * values would be compared with the wrong fields — is refused instead of returning an unrelated page.
 */
function orderSignature(keys: SortKey[]): string {
  const spec = keys
    .map((k) => `${k.target.kind === "id" ? "id" : k.target.field.id}:${k.descending ? "desc" : "asc"}`)
    .join(",");
  let signature = signatures.get(spec);
  if (signature === undefined) {
    signature = createHash("sha256").update(spec).digest("base64url").slice(0, 10);
    if (signatures.size >= 10_000) signatures.clear();
    signatures.set(spec, signature);
  }
  return signature;
}

function encodeCursor(signature: string, values: unknown[]): string {
  return Buffer.from(JSON.stringify({ o: signature, v: values })).toString("base64url");
}

/**
 * A cursor value as the keyset compares it, or InvalidValue when it cannot be one: a forged cursor
 * must be BAD_USER_INPUT, never a database error. Mirrors `cursorValue`.
 */
function checkCursorValue(key: SortKey, value: unknown): unknown {
  if (key.target.kind === "id")
    return fieldTypes.REFERENCE.coerce(value, { type: "REFERENCE", options: null });
  if (value === null) return null;
  const { field } = key.target;
  if (field.column === "created_at" || field.column === "updated_at") return normalizeDateTime(value);
  if (fieldTypes[field.type].numeric) {
    if (typeof value !== "number" || !Number.isFinite(value)) throw new InvalidValue("not a number");
    return value;
  }
  if (typeof value !== "string" || value.length > MAX_TEXT || value.includes("\u0000"))
    throw new InvalidValue("not a text value");
  return value;
}

function decodeCursor(cursor: string, keys: SortKey[], signature: string, argument: string): unknown[] {
  const notOurs = () =>
    fail.badInput(
      argument,
      `${argument} is not a cursor of this connection; pass a startCursor, endCursor or edge cursor it returned.`,
    );
  if (cursor.length > MAX_CURSOR) throw notOurs();
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw notOurs();
  }
  if (typeof decoded !== "object" || decoded === null) throw notOurs();
  const { o, v } = decoded as { o?: unknown; v?: unknown };
  if (typeof o !== "string" || !Array.isArray(v)) throw notOurs();
  if (o !== signature) {
    throw fail.badInput(
      argument,
      `${argument} is a cursor of another orderBy (or type); pass it with the orderBy it was made with, or start again without ${argument}.`,
    );
  }
  if (v.length !== keys.length) throw notOurs();
  try {
    return keys.map((key, i) => checkCursorValue(key, v[i]));
  } catch (error) {
    if (error instanceof InvalidValue) throw notOurs();
    throw error;
  }
}

export function pageSize(args: PageArgs, max = MAX_PAGE): { size: number; backward: boolean } {
  if (args.first != null && args.last != null) throw fail.badInput("last", "Pass first or last, not both.");
  const backward = args.last != null || (args.before != null && args.after == null);
  const size = args.last ?? args.first ?? DEFAULT_PAGE;
  const argument = args.last != null ? "last" : "first";
  if (!Number.isInteger(size) || size < 0 || size > max)
    throw fail.badInput(argument, `${argument} must be between 0 and ${max}.`);
  return { size, backward };
}

function sortKeys(catalog: Catalog, actor: Actor, type: TypeDef, orderBy: ListArgs["orderBy"]): SortKey[] {
  if ((orderBy?.length ?? 0) > 3) throw fail.badInput("orderBy", "Sort by at most 3 fields.");
  const keys: SortKey[] = (orderBy ?? []).map(({ field, direction }) => {
    const target = resolveFilterField(catalog, actor, type, field, "orderBy");
    if (target.kind === "field") {
      if (!isSortable(target.field.type)) {
        throw fail.badInput("orderBy", `${field} is ${target.field.type}; it cannot be sorted.`);
      }
    }
    return sortKey(target, direction === "DESC");
  });
  // The id breaks ties in the direction of the last key, so a one-field order in either direction
  // is one index read forwards or backwards (an ascending id under a descending field is not).
  if (!keys.some((k) => k.target.kind === "id"))
    keys.push(sortKey({ kind: "id" }, keys[keys.length - 1]?.descending ?? false, keys.length === 0));
  else if (keys.length === 1) return [sortKey({ kind: "id" }, keys[0]?.descending ?? false, true)];
  return keys;
}

/**
 * Rows strictly after `values` in the order of `keys` (reversed for last/before). When every key
 * runs one way (any one-field order with its id tie-breaker) that is one row comparison, which
 * PostgreSQL reads as a range of the order's index; mixed directions compare key by key.
 */
function keyset(keys: SortKey[], values: unknown[], reverse: boolean): SQL {
  const bound = keys.map((key, i) => key.bind(values[i]));
  const row = (parts: SQL[]) => sql`(${sql.join(parts, sql`, `)})`;
  const after = (descending: boolean) => sql.raw(descending ? "<" : ">");
  const descending = keys.map((key) => key.descending !== reverse);
  if (descending.every((d) => d === descending[0]))
    return sql`${row(keys.flatMap((k) => k.columns))} ${after(descending[0] ?? false)} ${row(bound.flat())}`;
  const alternatives = keys.map((key, i) => {
    const equalPrefix = keys.slice(0, i).map((k, j) => sql`${row(k.columns)} = ${row(bound[j] as SQL[])}`);
    const next = sql`${row(key.columns)} ${after(descending[i] ?? false)} ${row(bound[i] as SQL[])}`;
    return sql`(${sql.join([...equalPrefix, next], sql` and `)})`;
  });
  return sql`(${sql.join(alternatives, sql` or `)})`;
}

/** A row's position in the order of `keys`, as the keyset compares it. */
function cursorValue(key: SortKey, row: ListedRow): unknown {
  if (key.target.kind === "id") return row.id;
  const value = fieldValue(row, key.target.field);
  // Non-numeric JSONB values compare as their text (`values ->> id`): a BOOLEAN's is "true"/"false".
  return typeof value === "boolean" ? String(value) : value;
}

/** A listing's statement: which rows (`base`, in the order of `keys`) and which of their columns. */
export interface Listing {
  base: SQL;
  keys: SortKey[];
  /** A client's where/match: planned for its values each time (`PLANNED_PER_EXECUTION`). */
  filtered: boolean;
  /** A string the filter requires a field to equal: in id order, read through its lookup. */
  equality?: StringEquality & { workspaceId: string };
  columns: ReadonlySet<OptionalColumn>;
  /** Of `values`, only these keys (field ids); undefined: the whole document. */
  valueKeys?: ValueKeys;
  /** LINKS fields whose rows to read in the same statement, and their columns (of `values`, `keys`). */
  linked?: {
    workspaceId: string;
    fieldIds: string[];
    columns: ReadonlySet<OptionalColumn>;
    keys?: ValueKeys;
  };
}

/** A listing's page as one statement's parts, for `args`: which rows, in which order, how many. */
export interface PageStatement {
  size: number;
  backward: boolean;
  /** The order's keys (a string equality's page sorts by the lookup's id order). */
  keys: SortKey[];
  where: SQL;
  /** ORDER BY and LIMIT. */
  rest: SQL;
  /** What the statement reads from: `resources`, or a string equality's lookup joined to it. */
  from?: SQL;
  planEachTime: boolean;
  signatureOf: () => string;
}

/**
 * What of a page's statement varies by request, apart from its listing's filters: a cursor's
 * keyset and a string equality's lookup condition (`hole`s: their parameters are the request's
 * values), and the size, direction and order the arguments give.
 */
export interface PageParts {
  size: number;
  backward: boolean;
  /** The order's keys (a string equality's page sorts by the lookup's id order). */
  keys: SortKey[];
  /** Rows after (or before) the cursor. */
  bound?: SQL;
  /** What the page reads from when a string equality drives it, and the lookup's condition. */
  source?: { from: SQL; where: SQL };
  signatureOf: () => string;
}

export function pageParts(listing: Pick<Listing, "keys" | "equality">, args: PageArgs): PageParts {
  let { keys } = listing;
  const { size, backward } = pageSize(args);
  const cursorArg = backward ? "before" : "after";
  const cursor = backward ? args.before : args.after;
  // Hashed only for a cursor given or asked for: most listings read neither.
  let signature: string | undefined;
  const signatureOf = () => (signature ??= orderSignature(keys));
  const bound = cursor == null ? undefined : decodeCursor(cursor, keys, signatureOf(), cursorArg);
  // In id order, a string equality's rows are a range of `resource_string_values`' index, already
  // in order: the page stops after its rows however many match. Alone in its filter it is planned
  // once (prepared): the range is the answer. Beside other conditions PostgreSQL still plans for the
  // values, and may start from another condition's index (a rare value under a common one).
  const only = keys.length === 1 ? keys[0] : undefined;
  const source =
    listing.equality && only?.target.kind === "id"
      ? stringValueSource(
          listing.equality.workspaceId,
          listing.equality,
          bound && { id: bound[0] as string, descending: only.descending !== backward },
        )
      : undefined;
  // The lookup's rows come in its own id order (the database's collation), so the page sorts by that.
  if (source) keys = [sortKey({ kind: "id" }, only?.descending ?? false)];
  return {
    size,
    backward,
    keys,
    bound: bound && hole(keyset(keys, bound, backward)),
    source: source && { from: source.from, where: hole(source.where) },
    signatureOf,
  };
}

/** Whether `keys` order by the id alone: a row's cursor is then made from its id. */
export const isIdOrder = (keys: readonly SortKey[]) => keys.length === 1 && keys[0]?.target.kind === "id";

/** A listing's page statement (a reader of its own, renderedReads.ts, passes the request's parts). */
export function pageStatement(
  listing: Listing,
  args: PageArgs,
  parts = pageParts(listing, args),
): PageStatement {
  const { size, backward, keys, bound, source } = parts;
  const conditions = [listing.base];
  if (bound) conditions.push(bound);
  if (source) conditions.push(source.where);
  const order = sql.join(
    keys.flatMap((k) =>
      k.columns.map((c) => sql`${c} ${sql.raw(k.descending !== backward ? "desc" : "asc")}`),
    ),
    sql`, `,
  );
  // The limit is inlined (a validated integer): as a parameter, PostgreSQL's generic plan can't
  // know it, so it planned every execution anew (~0.25 ms of its CPU per page).
  const limit = sql.raw(String(size + 1));
  return {
    size,
    backward,
    keys,
    where: sql.join(conditions, sql` and `),
    rest: sql`order by ${order} limit ${limit}`,
    from: source?.from,
    planEachTime: listing.filtered && !(source && listing.equality?.alone),
    signatureOf: parts.signatureOf,
  };
}

/** A page's hasNextPage and hasPreviousPage: whether rows follow (`more`) where the page points. */
function pageFlags(args: PageArgs, backward: boolean, more: boolean) {
  return {
    hasNextPage: backward ? args.before != null : more,
    hasPreviousPage: backward ? more : args.after != null,
  };
}

/** A page a reader of its own read: its items, in the page's order, and what its pageInfo says. */
export interface PageRead<T> {
  items: T[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  /** The cursor of a row by its id (an order by the id alone; `isIdOrder`). */
  cursorOfId: (id: string) => string;
}

/**
 * The page of `rows`, read in the statement's order by a reader of its own (same rows, order
 * and cursors as `paginate`: one more row than the page says whether more follow).
 */
export function pageOf<T>(parts: PageParts, args: PageArgs, rows: T[]): PageRead<T> {
  const { size, backward, signatureOf } = parts;
  const items = rows.slice(0, size);
  if (backward) items.reverse();
  return {
    items,
    ...pageFlags(args, backward, rows.length > size),
    cursorOfId: (id) => encodeCursor(signatureOf(), [id]),
  };
}

/** Runs a keyset-paginated listing. */
export async function paginate(db: Db, listing: Listing, args: PageArgs): Promise<Connection<ListedRow>> {
  const { linked } = listing;
  const { size, backward, keys, where, rest, from, planEachTime, signatureOf } = pageStatement(listing, args);
  // The cursors need the sort keys' columns, shown or not.
  const columns = new Set(listing.columns);
  const valueKeys = listing.valueKeys && new Set(listing.valueKeys);
  for (const key of keys) {
    if (key.target.kind !== "field") continue;
    columns.add(fieldColumn(key.target.field));
    valueKeys?.add(key.target.field.id);
  }
  let rows: ListedRow[] = [];
  let linkedRows: Connection<ListedRow>["linked"];
  // Only prepared pages read their links in the same statement: planned per execution, the joined
  // statement cost PostgreSQL more planning than the second, prepared round trip it saves (0.45 ms
  // against 0.21 + 0.04).
  if (size > 0 && linked?.fieldIds.length && !planEachTime) {
    const read = await selectPageWithLinked(db, { where, rest, columns, keys: valueKeys, from }, linked);
    rows = read.rows;
    linkedRows = { fieldIds: linked.fieldIds, rows: read.linked };
  } else if (size > 0) {
    rows = await listRows(db, where, rest, planEachTime, columns, from, valueKeys);
  }
  const more = rows.length > size;
  const page = rows.slice(0, size);
  if (size > 0 && linked?.fieldIds.length && planEachTime) {
    const read = await linkedRowsOf(
      db,
      linked.workspaceId,
      page,
      linked.fieldIds,
      linked.columns,
      linked.keys,
    );
    linkedRows = { fieldIds: linked.fieldIds, rows: read };
  }
  if (backward) page.reverse();
  const cursorAt = (index: number) =>
    encodeCursor(
      signatureOf(),
      keys.map((key) => cursorValue(key, page[index] as ListedRow)),
    );
  let counted: Promise<number> | null = null;
  return {
    nodes: page,
    linked: linkedRows,
    cursorAt,
    pageInfo: {
      ...pageFlags(args, backward, more),
      // Encoded when read: a client that asks for no cursor pays for none.
      get startCursor() {
        return page.length ? cursorAt(0) : null;
      },
      get endCursor() {
        return page.length ? cursorAt(page.length - 1) : null;
      },
    },
    totalCount: () => {
      counted ??= queryRows<{ n: number }>(
        db,
        sql`${sql.raw(listing.filtered ? PLANNED_PER_EXECUTION : "")}select count(*)::int as n from resources where ${listing.base}`,
      ).then((r) => r[0]?.n ?? 0);
      return counted;
    },
  };
}

/** `resources(type, where, match, orderBy, first/after, last/before)` through the access policy. */
export async function listResources(
  db: Db,
  actor: Actor,
  catalog: Catalog,
  args: ListArgs,
): Promise<Connection<ListedRow>> {
  return paginate(db, resourceListing(actor, catalog, args).listing, args);
}

/**
 * What of a listing varies by request, apart from its page: the client's where and match
 * compiled (`hole`s: their parameters are the request's values), the string equality among them,
 * and the type and order they were checked against. `resourceListing` builds the rest from them.
 */
export interface ListingParts {
  type: TypeDef;
  filters: SQL[];
  equality: (StringEquality & { workspaceId: string }) | undefined;
  keys: SortKey[];
}

/** `resources(…)`'s type, where, match and orderBy, checked for the actor (`ListingParts`). */
export function listingParts(actor: Actor, catalog: Catalog, args: ListArgs): ListingParts {
  const type = visibleType(catalog, actor, args.type);
  const filters: SQL[] = [];
  const trees: ResourceFilter[] = [];
  if (args.where) {
    filters.push(hole(compileFilter(catalog, actor, type, args.where, "where")));
    trees.push(args.where);
  }
  if (args.match != null) {
    const match = matchToFilter(args.match);
    filters.push(hole(compileFilter(catalog, actor, type, match, "match")));
    trees.push(match);
  }
  const equality = stringEquality(catalog, actor, type, { and: trees });
  return {
    type,
    filters,
    equality: equality ? { ...equality, workspaceId: actor.workspaceId } : undefined,
    keys: sortKeys(catalog, actor, type, args.orderBy),
  };
}

/** What `resources(…)` lists for the actor, and of which type (its where, match and orderBy checked). */
export function resourceListing(
  actor: Actor,
  catalog: Catalog,
  args: ListArgs,
  parts = listingParts(actor, catalog, args),
): { listing: Listing; type: TypeDef } {
  const { type, filters, equality, keys } = parts;
  const { selection } = args;
  // Only fields the actor may read: a hidden LINKS field's ids are not followed, even into the page.
  const links = [...(selection?.linked ?? [])].flatMap(([key, shown]) => {
    const field = type.fieldsByKey.get(key);
    return field?.type === "LINKS" && canReadField(catalog, actor, field) ? [{ id: field.id, shown }] : [];
  });
  // A link may point to a resource of any type.
  const linkedColumns = new Set(links.flatMap((link) => [...columnsShown(link.shown, catalog.types)]));
  const linkedKeys = keysOfAll(links.map((link) => valueKeysShown(link.shown, catalog.types)));
  const listing: Listing = {
    base: sql.join([readableResourcesSql(catalog, actor, { types: [type] }), ...filters], sql` and `),
    keys,
    filtered: filters.length > 0,
    equality,
    columns: selection ? columnsShown(selection, [type]) : ALL_COLUMNS,
    valueKeys: selection && valueKeysShown(selection, [type]),
    linked: {
      workspaceId: actor.workspaceId,
      fieldIds: links.map((l) => l.id),
      columns: linkedColumns,
      keys: linkedKeys,
    },
  };
  return { listing, type };
}

/**
 * A resource's children, by id: of every type the actor can read whose `parent` field it may read
 * (for the others the relationship does not exist).
 */
export async function listChildren(
  db: Db,
  actor: Actor,
  catalog: Catalog,
  parentId: string,
  args: PageArgs,
): Promise<Connection<ListedRow>> {
  const base = sql`${readableResourcesSql(catalog, actor, { types: childTypes(catalog, actor) })}
    and "resources"."parent_id" = ${parentId}`;
  // The plain id: across types, the primary key is the index that gives this order (in byte order, a
  // parent with 100,000 children sorted them all for each page: ~180 ms against ~1.5 ms).
  const keys = [sortKey({ kind: "id" }, false)];
  return paginate(db, { base, keys, filtered: false, columns: ALL_COLUMNS }, args);
}

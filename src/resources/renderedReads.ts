import { type SQL, sql } from "drizzle-orm";
import {
  type DocumentNode,
  type FieldNode,
  GraphQLError,
  type GraphQLSchema,
  getArgumentValues,
  getVariableValues,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from "graphql";
import type { Actor } from "../auth/index.ts";
import {
  type Context,
  fillStatement,
  type KeptStatement,
  keepStatement,
  renderSql,
  sqlTextLiteral,
} from "../kernel/index.ts";
import {
  isoText,
  linkIds,
  type RenderedPage,
  type RenderedSelect,
  readRenderedPage,
  renderedPageStatement,
  renderedSelect,
} from "../ledger/index.ts";
import type { Catalog, FieldDef, TypeDef } from "../metadata/index.ts";
import {
  policyKey,
  readableField,
  readableResourcesSql,
  readableTypes,
  sqlIdLiteral,
  visibleField,
} from "../metadata/index.ts";
import {
  isIdOrder,
  type ListArgs,
  type ListingParts,
  listingParts,
  type PageParts,
  type PageRead,
  pageOf,
  pageParts,
  pageSize,
  pageStatement,
  resourceListing,
} from "./query.ts";

/**
 * The common list read, rendered by PostgreSQL: a query whose only field is `resources(…)`
 * selecting `nodes` of plain fields — `id`, `name`, `typeKey`, `version`, `createdAt`,
 * `updatedAt`, `value(field: "…")` and `linked(field: "…") { nodes { … } }` of those — and its
 * `pageInfo` (cursors in an order by the id alone, as a connector polls) gets each node's JSON
 * text from the statement that lists it (its links' nodes from the same statement, put in place
 * here) and skips GraphQL execution: for a page of 50 with its links' names, decoding 100 rows of
 * columns, resolving every field and serializing the result were most of the server's CPU
 * (bench:peers). The listing (`listingParts`, `pageParts`: type, filter, order, cursor), its
 * pageInfo (`pageOf`) and the access policy are the resolvers' own; what each node shows is decided
 * here with the same policy functions. Anything else — another field, edges, totalCount, a
 * fragment, a directive, a variable where a field key goes, a cursor in another order, any
 * refusal — runs through the schema as usual, which gives the error if there is one
 * (test/resources/renderedReads.test.ts holds both paths to the same answers). Numbers print as
 * PostgreSQL prints them (1e21 as 1000000000000000000000): the same values.
 */

/** A plain field of a node: what it reads. */
const PLAIN_FIELDS = ["id", "name", "typeKey", "version", "createdAt", "updatedAt", "__typename"] as const;
type Plain = (typeof PLAIN_FIELDS)[number];
const PLAIN = new Set<string>(PLAIN_FIELDS);

type Shown =
  | { key: string; kind: "plain"; name: Plain }
  | { key: string; kind: "value"; field: string }
  | { key: string; kind: "linked"; field: string; first?: number; connection: ConnectionShape };

/** What `pageInfo` may select here (all of PageInfo). */
const PAGE_INFO_FIELDS = new Set([
  "hasNextPage",
  "hasPreviousPage",
  "startCursor",
  "endCursor",
  "__typename",
]);

/** A connection's entry in response order: its nodes, its `__typename`, or its pageInfo's fields. */
type ConnectionEntry =
  | { key: string; kind: "nodes" | "__typename" }
  | { key: string; kind: "pageInfo"; fields: { key: string; name: string }[] };

/** A connection's selection. */
interface ConnectionShape {
  entries: ConnectionEntry[];
  nodes: Shown[];
  /** Whether it selects pageInfo, and whether that shows a cursor (rows then come with their ids). */
  pageInfo: boolean;
  cursors: boolean;
}

/** A document this module renders: its `resources` field and what the field selects. */
export interface ReadShape {
  operation: OperationDefinitionNode;
  field: FieldNode;
  connection: ConnectionShape;
}

/** GraphQL names are [_A-Za-z][_0-9A-Za-z]*: safe as SQL text in quotes. */
const responseKey = (field: FieldNode) => field.alias?.value ?? field.name.value;

/** The document's shape if this module renders it, else null (once per document). */
export function readShape(document: DocumentNode): ReadShape | null {
  const [operation, ...others] = document.definitions;
  if (others.length || operation?.kind !== Kind.OPERATION_DEFINITION || operation.operation !== "query")
    return null;
  if (operation.directives?.length) return null;
  const field = onlyField(operation.selectionSet);
  if (field?.name.value !== "resources" || !field.selectionSet) return null;
  const connection = connectionShape(field.selectionSet, true);
  return connection && { operation, field, connection };
}

function onlyField(set: SelectionSetNode): FieldNode | null {
  const [only, ...others] = set.selections;
  return !others.length && only?.kind === Kind.FIELD && !only.directives?.length ? only : null;
}

/** Plain fields of a selection set (no fragments, no directives), each response key once. */
function plainFields(set: SelectionSetNode): FieldNode[] | null {
  const keys = new Set<string>();
  const fields: FieldNode[] = [];
  for (const selection of set.selections) {
    if (selection.kind !== Kind.FIELD || selection.directives?.length) return null;
    const key = responseKey(selection);
    if (keys.has(key)) return null;
    keys.add(key);
    fields.push(selection);
  }
  return fields;
}

function connectionShape(set: SelectionSetNode, withLinks: boolean): ConnectionShape | null {
  const fields = plainFields(set);
  if (!fields) return null;
  const shape: ConnectionShape = { entries: [], nodes: [], pageInfo: false, cursors: false };
  let seenNodes = false;
  for (const field of fields) {
    const name = field.name.value;
    if (field.arguments?.length) return null;
    if (name === "__typename") shape.entries.push({ key: responseKey(field), kind: "__typename" });
    else if (name === "pageInfo" && withLinks && field.selectionSet) {
      // The listing's own pageInfo (a link's connection has none to give here).
      const infoFields = plainFields(field.selectionSet);
      if (
        !infoFields?.every(
          (f) => PAGE_INFO_FIELDS.has(f.name.value) && !f.arguments?.length && !f.selectionSet,
        )
      )
        return null;
      const shown = infoFields.map((f) => ({ key: responseKey(f), name: f.name.value }));
      shape.pageInfo = true;
      shape.cursors ||= shown.some((f) => f.name === "startCursor" || f.name === "endCursor");
      shape.entries.push({ key: responseKey(field), kind: "pageInfo", fields: shown });
    } else if (name === "nodes" && field.selectionSet && !seenNodes) {
      const nodes = nodeShapes(field.selectionSet, withLinks);
      if (!nodes) return null;
      seenNodes = true;
      shape.nodes = nodes;
      shape.entries.push({ key: responseKey(field), kind: "nodes" });
    } else return null;
  }
  return shape;
}

/** A node is one `concat` of two arguments per field, and a function takes at most 100. */
const MAX_SHOWN = 40;

function nodeShapes(set: SelectionSetNode, withLinks: boolean): Shown[] | null {
  const fields = plainFields(set);
  if (!fields || fields.length > MAX_SHOWN) return null;
  const shown: Shown[] = [];
  for (const field of fields) {
    const key = responseKey(field);
    const name = field.name.value;
    const args = field.arguments ?? [];
    if (PLAIN.has(name) && !args.length && !field.selectionSet) {
      shown.push({ key, kind: "plain", name: name as Plain });
      continue;
    }
    const fieldKey = args.find((a) => a.name.value === "field")?.value;
    if (fieldKey?.kind !== Kind.STRING) return null;
    if (name === "value" && args.length === 1 && withLinks) {
      shown.push({ key, kind: "value", field: fieldKey.value });
      continue;
    }
    if (name !== "linked" || !withLinks || !field.selectionSet) return null;
    const first = args.find((a) => a.name.value === "first")?.value;
    if (args.length !== (first ? 2 : 1) || (first && first.kind !== Kind.INT)) return null;
    const connection = connectionShape(field.selectionSet, false);
    if (!connection) return null;
    shown.push({
      key,
      kind: "linked",
      field: fieldKey.value,
      first: first?.kind === Kind.INT ? Number(first.value) : undefined,
      connection,
    });
  }
  return shown;
}

/** Thrown while rendering for what the schema's resolvers must answer instead. */
class NotRendered extends Error {}

/**
 * The response's `data` for `shape` as JSON text, or undefined when the schema's resolvers must
 * answer (an error to report, an argument that does not coerce). The actor needs the READ scope,
 * as the resolver asks.
 */
export async function renderRead(
  schema: GraphQLSchema,
  shape: ReadShape,
  request: { operationName?: string | null; variables?: Record<string, unknown> | null },
  context: Context,
): Promise<string | undefined> {
  const actor = context.actor;
  if (!actor?.scopes.includes("READ")) return undefined;
  // Another operation's name is the executor's error to give.
  if (request.operationName != null && request.operationName !== shape.operation.name?.value)
    return undefined;
  const coerced = getVariableValues(
    schema,
    shape.operation.variableDefinitions ?? [],
    request.variables ?? {},
  );
  if (coerced.errors) return undefined;
  const definition = schema.getQueryType()?.getFields().resources;
  if (!definition) return undefined;
  try {
    const args = getArgumentValues(definition, shape.field, coerced.coerced) as unknown as ListArgs;
    const catalog = await context.catalog();
    const listing = listingParts(actor, catalog, args);
    const rendering = nodeRendering(catalog, actor, listing.type, shape);
    const parts = pageParts(listing, args);
    // A cursor here is a row's id: in another order, the resolvers make it from the sort values.
    if (shape.connection.cursors && !isIdOrder(parts.keys)) return undefined;
    let linked: RenderedPage["linked"] = new Map();
    let rows: string[][] = [];
    if (parts.size > 0) {
      const { statement, planEachTime } = pageStatementOf(rendering, actor, catalog, args, listing, parts);
      const read = await readRenderedPage(context.services.db, statement, planEachTime, rendering.select);
      ({ rows, linked } = read);
    }
    const page = pageOf(parts, args, rows);
    const nodes = page.items.map((row) => nodeJson(row, rendering.links, linked));
    const pageInfo = shape.connection.pageInfo ? pageInfoOf(page, shape.connection.cursors) : undefined;
    const data = connectionJson(shape.connection, nodes, pageInfo);
    return `{${JSON.stringify(responseKey(shape.field))}:${data}}`;
  } catch (error) {
    // A refusal (bad input, access) is the resolvers' to give, with its path; a fault is not.
    if (error instanceof NotRendered || error instanceof GraphQLError) return undefined;
    throw error;
  }
}

/** A page statement kept for every request whose holes render alike, and how it reads its page. */
interface KeptPage {
  kept: KeptStatement;
  planEachTime: boolean;
}

/** Statements kept per rendering; past this many (distinct filter shapes), they are dropped. */
const MAX_KEPT_PAGES = 200;

/**
 * This request's page statement, rendered. What varies between requests of one rendering
 * (catalog, document, type, policy) are the holes — the compiled where and match, a cursor's
 * keyset, a string equality's lookup condition — whose parameters are the request's values; every
 * other part follows from the arguments in the key. So the statement is built and rendered once
 * per key and the holes' texts, and each request renders only its holes: building the listing,
 * its page and the whole statement anew was a tenth of the email read's server CPU (bench/README.md).
 */
function pageStatementOf(
  rendering: NodeRendering,
  actor: Actor,
  catalog: Catalog,
  args: ListArgs,
  listing: ListingParts,
  parts: PageParts,
): { statement: { sql: string; params: unknown[] }; planEachTime: boolean } {
  const holes: SQL[] = [...listing.filters];
  if (parts.bound) holes.push(parts.bound);
  if (parts.source) holes.push(parts.source.where);
  const rendered = holes.map(renderSql);
  // What else the statement follows from, then the holes' texts. U+0000 is in no statement's text.
  const key = [
    parts.size,
    parts.backward,
    listing.filters.length,
    Boolean(parts.bound),
    listing.equality?.alone ?? null,
    Boolean(parts.source),
    args.orderBy ? JSON.stringify(args.orderBy) : "",
    ...rendered.map((r) => r.sql),
  ].join("\u0000");
  const found = rendering.pages.get(key);
  const params = rendered.map((r) => r.params);
  if (found) return { statement: fillStatement(found.kept, params), planEachTime: found.planEachTime };
  const query = pageStatement(resourceListing(actor, catalog, args, listing).listing, args, parts);
  const { planEachTime } = query;
  const statement = renderedPageStatement(query, rendering.select);
  const kept = keepStatement(statement, holes);
  if (!kept) return { statement: renderSql(statement), planEachTime };
  if (rendering.pages.size >= MAX_KEPT_PAGES) rendering.pages.clear();
  rendering.pages.set(key, { kept, planEachTime });
  return { statement: fillStatement(kept, params), planEachTime };
}

/** How a page of one type shows `shape`'s nodes to one policy: its statement's select, its links. */
interface NodeRendering {
  select: RenderedSelect;
  links: Link[];
  /** Its page statements, by key (`pageStatementOf`). */
  pages: Map<string, KeptPage>;
}

/**
 * Memo of `nodeRendering`: a catalog is an immutable snapshot of one workspace, and what a node
 * shows depends on it, the document, the type and the policy's key only (the READ scope is
 * required). Building the select and the links' policy anew was a tenth of a rendered read's CPU.
 */
const renderings = new WeakMap<Catalog, WeakMap<ReadShape, Map<string, NodeRendering>>>();

function nodeRendering(catalog: Catalog, actor: Actor, type: TypeDef, shape: ReadShape): NodeRendering {
  let byShape = renderings.get(catalog);
  if (!byShape) {
    byShape = new WeakMap();
    renderings.set(catalog, byShape);
  }
  let byPolicy = byShape.get(shape);
  if (!byPolicy) {
    byPolicy = new Map();
    byShape.set(shape, byPolicy);
  }
  const key = `${type.id}:${policyKey(actor)}:${actor.workspaceId}`;
  let rendering = byPolicy.get(key);
  if (!rendering) {
    const { segments, links } = pageNode(catalog, actor, type, shape.connection.nodes);
    const linkedWhere = readableResourcesSql(catalog, actor);
    const select = renderedSelect(segments, links, linkedWhere, shape.connection.cursors);
    rendering = { select, links, pages: new Map() };
    byPolicy.set(key, rendering);
  }
  return rendering;
}

/** A page row's JSON: its segments, and between them each link's connection. */
function nodeJson(row: string[], links: readonly Link[], linked: RenderedPage["linked"]): string {
  let json = row[0] as string;
  for (let i = 0; i < links.length; i++) {
    const { frame, size } = links[i] as Link;
    json += frame.open;
    if (frame.nodes) {
      let shown = 0;
      for (const id of linkIds(row[2 * i + 1])) {
        if (shown === size) break;
        const node = linked.get(id)?.[i];
        if (node != null) json += (shown++ ? "," : "") + node;
      }
    }
    json += frame.close + row[2 * i + 2];
  }
  return json;
}

/** A link's connection (it shows no pageInfo) as the text around its nodes, if it selects them. */
interface Frame {
  open: string;
  close: string;
  nodes: boolean;
}

/**
 * Made once per rendering: building each link's connection text anew (its keys stringified, its
 * entries mapped and joined) for every row of every page was ~2% of a list's server CPU.
 */
function connectionFrame(shape: ConnectionShape): Frame {
  // A GraphQL name never holds U+0000: the nodes' place in the text is where it comes out.
  const text = connectionJson(shape, ["\u0000"]);
  const at = text.indexOf("[\u0000]");
  return at < 0
    ? { open: text, close: "", nodes: false }
    : { open: text.slice(0, at + 1), close: text.slice(at + 2), nodes: true };
}

/** A page's pageInfo, as `PageInfo` answers it. */
type PageInfo = Record<string, string | boolean | null>;

/**
 * Built only for a shape that selects pageInfo, and without accessors: an object literal with
 * getters closing over the page, made on every read, cost the plain list ~20% more server CPU
 * (bench A/B; most of it garbage collection).
 */
function pageInfoOf(page: PageRead<string[]>, cursors: boolean): PageInfo {
  // With cursors selected, a page row's last part is its id (`renderedSelect`).
  const cursor = (row: string[] | undefined) =>
    cursors && row ? page.cursorOfId(row[row.length - 1] as string) : null;
  return {
    hasNextPage: page.hasNextPage,
    hasPreviousPage: page.hasPreviousPage,
    startCursor: cursor(page.items[0]),
    endCursor: cursor(page.items[page.items.length - 1]),
    __typename: "PageInfo",
  };
}

function connectionJson(shape: ConnectionShape, nodes: string[], pageInfo?: PageInfo): string {
  const entries = shape.entries.map((entry) => {
    const key = JSON.stringify(entry.key);
    if (entry.kind !== "pageInfo")
      return entry.kind === "nodes" ? `${key}:[${nodes.join(",")}]` : `${key}:"ResourceConnection"`;
    const fields = entry.fields.map((f) => `${JSON.stringify(f.key)}:${JSON.stringify(pageInfo?.[f.name])}`);
    return `${key}:{${fields.join(",")}}`;
  });
  return `{${entries.join(",")}}`;
}

/** A SQL value's JSON text. */
const toJson = (value: SQL) => sql`to_json(${value})::text`;
const column = (name: string) => sql.raw(`"resources"."${name}"`);
const timestamp = (name: string) => sql.raw(isoText(`"resources"."${name}"`));

/** A field's column as its value shows it (system fields: `name`, `createdAt`…). */
function columnValue(field: FieldDef): SQL {
  const name = field.column as string;
  return name === "created_at" || name === "updated_at" ? timestamp(name) : column(name);
}

/** A LINKS field a page shows, and how: its linked rows are rendered as `node`. */
interface Link {
  fieldId: string;
  node: SQL;
  size: number;
  frame: Frame;
}

/**
 * A JSON object's text in SQL: `{"key":value,…}` with each value a JSON text (SQL null as null),
 * split where a link's connection goes (JS puts it there: `nodeJson`). GraphQL response keys are
 * names ([_A-Za-z][_0-9A-Za-z]*): safe in a literal.
 */
function objectSegments(entries: readonly [string, SQL | "link"][]): SQL[] {
  const segments: SQL[] = [];
  let parts: SQL[] = [];
  let text = "{";
  entries.forEach(([key, value], i) => {
    text += `${i ? "," : ""}"${key}":`;
    if (value === "link") {
      parts.push(sql.raw(`'${text}'`));
      segments.push(sql`concat(${sql.join(parts, sql`, `)})`);
      parts = [];
      text = "";
      return;
    }
    parts.push(sql.raw(`'${text}'`), sql`coalesce(${value}, 'null')`);
    text = "";
  });
  parts.push(sql.raw(`'${text}}'`));
  segments.push(sql`concat(${sql.join(parts, sql`, `)})`);
  return segments;
}

/** A node of the page (of `type`): each shown field as its resolver answers it, links apart. */
function pageNode(
  catalog: Catalog,
  actor: Actor,
  type: TypeDef,
  shown: Shown[],
): { segments: SQL[]; links: Link[] } {
  const links: Link[] = [];
  const entries = shown.map((s): [string, SQL | "link"] => {
    if (s.kind === "plain") return [s.key, toJson(plainValue(catalog, actor, s.name, [type]))];
    const field = visibleField(catalog, actor, type, s.field, "field");
    // A value is JSONB: its text is JSON already (to_json would print and parse it again).
    if (s.kind === "value")
      return [
        s.key,
        field.column
          ? toJson(columnValue(field))
          : sql.raw(`("resources"."values" -> ${sqlIdLiteral(field.id)})::text`),
      ];
    if (field.type !== "LINKS") throw new NotRendered();
    links.push({
      fieldId: field.id,
      node: linkedNode(catalog, actor, s.connection.nodes),
      size: pageSize({ first: s.first }).size,
      frame: connectionFrame(s.connection),
    });
    return [s.key, "link"];
  });
  return { segments: objectSegments(entries), links };
}

/** A linked row's node (of any type the actor can read: the policy admits no other). */
function linkedNode(catalog: Catalog, actor: Actor, shown: Shown[]): SQL {
  const types = readableTypes(catalog, actor);
  const entries = shown.map((s): [string, SQL] => {
    if (s.kind !== "plain") throw new NotRendered();
    return [s.key, toJson(plainValue(catalog, actor, s.name, types))];
  });
  return objectSegments(entries)[0] as SQL;
}

/** A plain field of a row of one of `types`. */
function plainValue(catalog: Catalog, actor: Actor, name: Plain, types: readonly TypeDef[]): SQL {
  switch (name) {
    case "__typename":
      return sql.raw("'Resource'::text");
    case "id":
    case "version":
      return column(name);
    case "createdAt":
      return timestamp("created_at");
    case "updatedAt":
      return timestamp("updated_at");
    case "typeKey":
      return byType(types, (type) => sql.raw(`${sqlTextLiteral(type.key)}::text`));
    case "name": {
      // null also where the viewer may not read the name field (as `Resource.name` answers).
      const shown = types.filter((type) => readableField(catalog, actor, type, "name"));
      if (shown.length === types.length) return column("name");
      return byType(shown, () => column("name"));
    }
  }
}

/** What `value` gives for a row of each of `types` (undefined: null), by its type_id. */
function byType(types: readonly TypeDef[], value: (type: TypeDef) => SQL | undefined): SQL {
  const [only] = types;
  if (types.length === 1 && only) return value(only) ?? sql.raw("null::text");
  const cases = types.flatMap((type) => {
    const v = value(type);
    return v ? [sql`when ${sql.raw(sqlIdLiteral(type.id))} then ${v}`] : [];
  });
  return cases.length
    ? sql`(case ${column("type_id")} ${sql.join(cases, sql` `)} end)`
    : sql.raw("null::text");
}

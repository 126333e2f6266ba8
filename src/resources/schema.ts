import type { Actor } from "../auth/index.ts";
import { MemberRef } from "../auth/index.ts";
import { actorOf, builder, type Context, fail, NodeRef, PageInfoRef, registerNode } from "../kernel/index.ts";
import type { ListedRow, ResourceFilter, ResourceRow } from "../ledger/index.ts";
import { columnOf, fieldValue, linkedIds, visibleValues } from "../ledger/index.ts";
import type { Catalog, TypeDef } from "../metadata/index.ts";
import {
  canReadResource,
  ResourceTypeRef,
  readableField,
  viewType,
  visibleField,
} from "../metadata/index.ts";
import { type LinkedRows, ResourcePage } from "./page.ts";
import { type Connection, listChildren, listResources, pageSize } from "./query.ts";
import { nodeSelection } from "./selection.ts";

/**
 * A resource with the catalog and actor it is shown to, so its fields resolve synchronously. A
 * listed row may hold only the columns its selection shows: read them through `columnOf`.
 */
export interface ResourceView {
  id: string;
  row: ListedRow;
  type: TypeDef;
  catalog: Catalog;
  actor: Actor;
  /** The page this row was listed in, so per-row lookups batch once per page. */
  page: ResourcePage | undefined;
}

export function viewResource(
  row: ListedRow,
  catalog: Catalog,
  actor: Actor,
  page?: ResourcePage,
): ResourceView {
  return { id: row.id, row, type: catalog.typesById.get(row.typeId) as TypeDef, catalog, actor, page };
}

async function viewMany(context: Context, rows: (ResourceRow | null)[]): Promise<(ResourceView | null)[]> {
  const catalog = await context.catalog();
  const actor = actorOf(context);
  return rows.map((row) => (row ? viewResource(row, catalog, actor) : null));
}

export const SortDirection = builder.enumType("SortDirection", { values: ["ASC", "DESC"] as const });

export const ResourceFilterInput = builder.inputRef<ResourceFilter>("ResourceFilter").implement({
  description: "A leaf names `field` and exactly one operator; or combine filters with and / or / not.",
  fields: (t) => ({
    and: t.field({ type: [ResourceFilterInput] }),
    or: t.field({ type: [ResourceFilterInput] }),
    not: t.field({ type: ResourceFilterInput }),
    field: t.string({ description: "A field key (or `id`)." }),
    eq: t.field({ type: "JSON" }),
    ne: t.field({ type: "JSON" }),
    in: t.field({ type: ["JSON"] }),
    notIn: t.field({ type: ["JSON"] }),
    lt: t.field({ type: "JSON" }),
    lte: t.field({ type: "JSON" }),
    gt: t.field({ type: "JSON" }),
    gte: t.field({ type: "JSON" }),
    contains: t.field({
      type: "JSON",
      description: "Substring (text), element(s) (LINKS, MULTI_SELECT), or sub-object (JSON).",
    }),
    startsWith: t.string(),
    isNull: t.boolean(),
  }),
});

export const ResourceOrderInput = builder.inputType("ResourceOrder", {
  fields: (t) => ({
    field: t.string({ required: true }),
    direction: t.field({ type: SortDirection, defaultValue: "ASC" }),
  }),
});

export const ResourceRef = builder.objectRef<ResourceView>("Resource");

interface ResourceConnectionShape {
  connection: Connection<ListedRow>;
  views: ResourceView[];
}

const ResourceEdgeRef = builder.objectRef<{ cursor: string; node: ResourceView }>("ResourceEdge").implement({
  fields: (t) => ({
    cursor: t.exposeString("cursor"),
    node: t.field({ type: ResourceRef, resolve: (edge) => edge.node }),
  }),
});

export const ResourceConnectionRef = builder
  .objectRef<ResourceConnectionShape>("ResourceConnection")
  .implement({
    description: "A Relay connection of resources, keyset-paginated.",
    fields: (t) => ({
      edges: t.field({
        type: [ResourceEdgeRef],
        resolve: ({ connection, views }) =>
          views.map((node, i) => ({ cursor: connection.cursorAt(i), node })),
      }),
      nodes: t.field({ type: [ResourceRef], resolve: ({ views }) => views }),
      pageInfo: t.field({ type: PageInfoRef, resolve: ({ connection }) => connection.pageInfo }),
      totalCount: t.int({
        description: "Counted only when selected.",
        resolve: ({ connection }) => connection.totalCount(),
      }),
    }),
  });

export async function connectionOf(
  context: Context,
  connection: Connection<ListedRow>,
): Promise<ResourceConnectionShape> {
  const catalog = await context.catalog();
  const actor = actorOf(context);
  const read = connection.linked && readLinked(catalog, actor, connection);
  const page = new ResourcePage(connection.nodes, read);
  return { connection, views: page.rows.map((row) => viewResource(row, catalog, actor, page)) };
}

/**
 * The rows read with a page, by LINKS field and id, through the policy the resource loader applies
 * (`canReadResource`; an id with no row is null, as the loader's own batch would make it). They stay
 * with the page and never enter the loader: they hold only the columns the page's selection shows,
 * and another part of the request may load the same id for other columns.
 */
function readLinked(
  catalog: Catalog,
  actor: Actor,
  connection: Connection<ListedRow>,
): Map<string, LinkedRows> {
  const { fieldIds, rows } = connection.linked as NonNullable<Connection<ListedRow>["linked"]>;
  const found = new Map<string, ListedRow>();
  for (const row of rows) found.set(row.id, row);
  const read = new Map<string, LinkedRows>();
  for (const fieldId of fieldIds) {
    const byId: LinkedRows = new Map();
    for (const id of linkedIds(connection.nodes, [fieldId])) {
      const linked = found.get(id);
      byId.set(id, linked && canReadResource(catalog, actor, linked) ? linked : null);
    }
    read.set(fieldId, byId);
  }
  return read;
}

/**
 * `linked(field)`: the ids are in the rows, so a page of these is one batch (`ResourcePage.linked`),
 * which each row waits on; synchronous when the field is empty.
 */
function linkedConnection(
  context: Context,
  view: ResourceView,
  key: string,
  args: { first?: number | null; after?: string | null },
): ResourceConnectionShape | Promise<ResourceConnectionShape> {
  const field = visibleField(view.catalog, view.actor, view.type, key, "field");
  if (field.type !== "LINKS") throw fail.badInput("field", `${key} is not a LINKS field.`);
  const { size } = pageSize(args);
  const ids = (columnOf(view.row, "values")[field.id] as string[] | undefined) ?? [];
  if (ids.length === 0) return linkedPage(view, [], size, args.after);
  const page = view.page ?? new ResourcePage([view.row]);
  return page.linked(field.id, context.loaders.resource).then((found) =>
    linkedPage(
      view,
      ids.map((id) => found.get(id) ?? null),
      size,
      args.after,
    ),
  );
}

function linkedPage(
  view: ResourceView,
  rows: (ListedRow | null)[],
  size: number,
  after: string | null | undefined,
): ResourceConnectionShape {
  const live = rows.filter((row): row is ListedRow => row !== null);
  let start = 0;
  if (after != null) {
    const index = live.findIndex((row) => row.id === after);
    if (index < 0) throw fail.badInput("after", "after is not a cursor of this connection.");
    start = index + 1;
  }
  const page = live.slice(start, start + size);
  // Methods, not arrow properties: tsx compiles with keepNames, which wraps every named arrow in a
  // defineProperty call each time it is created (here: per resource in a page, ~1.5% of its CPU).
  const connection: Connection<ListedRow> = {
    nodes: page,
    cursorAt(index) {
      return (page[index] as ListedRow).id;
    },
    pageInfo: {
      hasNextPage: start + size < live.length,
      hasPreviousPage: start > 0,
      startCursor: page[0]?.id ?? null,
      endCursor: page[page.length - 1]?.id ?? null,
    },
    totalCount() {
      return live.length;
    },
  };
  const group = new ResourcePage(page);
  return { connection, views: page.map((row) => viewResource(row, view.catalog, view.actor, group)) };
}

ResourceRef.implement({
  description: "A resource of any type. `values` holds every field the viewer can read.",
  interfaces: [NodeRef],
  fields: (t) => ({
    id: t.exposeID("id"),
    type: t.field({ type: ResourceTypeRef, resolve: (view) => viewType(view.type, view.catalog) }),
    typeKey: t.string({ resolve: (view) => view.type.key }),
    name: t.string({
      nullable: true,
      description: "null also when the viewer may not read the name field.",
      resolve: (view) =>
        readableField(view.catalog, view.actor, view.type, "name") ? columnOf(view.row, "name") : null,
    }),
    values: t.field({
      type: "JSON",
      description: "{ fieldKey: value } for every field the viewer can read.",
      resolve: (view) => visibleValues(view.catalog, view.actor, view.type, view.row),
    }),
    value: t.field({
      type: "JSON",
      nullable: true,
      args: { field: t.arg.string({ required: true }) },
      resolve: (view, args) =>
        fieldValue(view.row, visibleField(view.catalog, view.actor, view.type, args.field, "field")),
    }),
    parent: t.field({
      type: ResourceRef,
      nullable: true,
      resolve: async (view, _args, context) => {
        // A hidden field has no value (null, as when unset: an error would tell that one is set).
        if (!readableField(view.catalog, view.actor, view.type, "parent")) return null;
        const parentId = columnOf(view.row, "parentId");
        if (!parentId) return null;
        const row = await context.loaders.resource.load(parentId);
        return row ? viewResource(row, view.catalog, view.actor) : null;
      },
    }),
    children: t.field({
      type: ResourceConnectionRef,
      args: { first: t.arg.int(), after: t.arg.string() },
      resolve: async (view, args, context) =>
        connectionOf(
          context,
          await listChildren(context.services.db, view.actor, view.catalog, view.row.id, args),
        ),
    }),
    assignee: t.field({
      type: MemberRef,
      nullable: true,
      resolve: async (view, _args, context) => {
        if (!readableField(view.catalog, view.actor, view.type, "assignee")) return null;
        const assigneeId = columnOf(view.row, "assigneeId");
        return assigneeId ? context.loaders.member.load(assigneeId) : null;
      },
    }),
    createdBy: t.field({
      type: MemberRef,
      nullable: true,
      resolve: async (view, _args, context) => {
        if (!readableField(view.catalog, view.actor, view.type, "createdBy")) return null;
        const createdById = columnOf(view.row, "createdById");
        return createdById ? context.loaders.member.load(createdById) : null;
      },
    }),
    linked: t.field({
      type: ResourceConnectionRef,
      args: { field: t.arg.string({ required: true }), first: t.arg.int(), after: t.arg.string() },
      resolve: (view, args, context) => linkedConnection(context, view, args.field, args),
    }),
    version: t.int({
      description: "+1 on every change; pass as expectedVersion for optimistic concurrency.",
      resolve: (view) => columnOf(view.row, "version"),
    }),
    createdAt: t.field({ type: "DateTime", resolve: (view) => columnOf(view.row, "createdAt") }),
    updatedAt: t.field({ type: "DateTime", resolve: (view) => columnOf(view.row, "updatedAt") }),
  }),
});

registerNode("resource", "Resource", async (id, context) => {
  const [view] = await viewMany(context, [await context.loaders.resource.load(id)]);
  return view ?? null;
});

builder.queryFields((t) => ({
  resources: t.field({
    type: ResourceConnectionRef,
    description:
      "Resources of one type, filtered by any readable field, keyset-paginated (first at most 500).",
    args: {
      type: t.arg.string({ required: true }),
      where: t.arg({ type: ResourceFilterInput }),
      match: t.arg({ type: "JSON", description: 'Shorthand for an `and` of `eq`s: {"name": "Ada"}.' }),
      orderBy: t.arg({ type: [ResourceOrderInput] }),
      first: t.arg.int(),
      after: t.arg.string(),
      last: t.arg.int(),
      before: t.arg.string(),
    },
    resolve: async (_root, args, context, info) => {
      const actor = actorOf(context);
      if (!actor.scopes.includes("READ")) throw fail.forbidden("This credential lacks the READ scope.");
      const catalog = await context.catalog();
      const selection = nodeSelection(info);
      return connectionOf(
        context,
        await listResources(context.services.db, actor, catalog, { ...args, selection }),
      );
    },
  }),
  resource: t.field({
    type: ResourceRef,
    nullable: true,
    description: "A resource by id; null when it does not exist or the viewer cannot read it.",
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, context) => {
      const [view] = await viewMany(context, [await context.loaders.resource.load(String(id))]);
      return view ?? null;
    },
  }),
}));

import { builder } from "./builder.ts";
import type { Context } from "./context.ts";
import { type IdKind, idKind } from "./ids.ts";

type NodeFetcher = (id: string, context: Context) => Promise<object | null | undefined>;

const nodeTypes = new Map<IdKind, { typeName: string; fetch: NodeFetcher }>();

/** Each domain registers how to fetch its ids; `node(id)` dispatches on the id's prefix. */
export function registerNode(kind: IdKind, typeName: string, fetch: NodeFetcher): void {
  nodeTypes.set(kind, { typeName, fetch });
}

export const NodeRef = builder.interfaceRef<{ id: string }>("Node").implement({
  description: "An object with a globally unique, opaque id.",
  fields: (t) => ({ id: t.exposeID("id") }),
  resolveType: (value) => {
    const kind = idKind(value.id);
    return (kind && nodeTypes.get(kind)?.typeName) ?? null;
  },
});

builder.queryField("node", (t) =>
  t.field({
    type: NodeRef,
    nullable: true,
    description: "Any object by id; null when it does not exist or the viewer cannot see it.",
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, context) => {
      const kind = idKind(String(id));
      const entry = kind && nodeTypes.get(kind);
      if (!entry) return null;
      return ((await entry.fetch(String(id), context)) as { id: string } | null | undefined) ?? null;
    },
  }),
);

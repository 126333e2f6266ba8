import { actorOf, builder, PageInfoRef } from "../kernel/index.ts";
import type { SchemaChangePage, SchemaChangeView } from "../ledger/index.ts";
import { schemaChangeKinds } from "../metadata/index.ts";
import { ActorRef, ChangeRequestRef } from "./schema.ts";

export const SchemaChangeKindEnum = builder.enumType("SchemaChangeKind", {
  values: schemaChangeKinds,
});

export const SchemaChangeRef = builder.objectRef<SchemaChangeView>("SchemaChange").implement({
  description:
    "A type, field or access rule created, changed or deleted: re-read resourceType(key) to refresh a cached schema.",
  fields: (t) => ({
    id: t.id({
      description: 'Dense, incrementing, per workspace: "1", "2", …; also the cursor.',
      resolve: (c) => c.id,
    }),
    kind: t.field({ type: SchemaChangeKindEnum, resolve: (c) => c.kind }),
    resourceType: t.string({ description: "The type's key.", resolve: (c) => c.resourceType }),
    resourceTypeId: t.id({ resolve: (c) => c.resourceTypeId }),
    fieldKey: t.string({
      nullable: true,
      description: "FIELD_* and field ACCESS_CHANGED.",
      resolve: (c) => c.fieldKey,
    }),
    fieldId: t.id({ nullable: true, resolve: (c) => c.fieldId }),
    role: t.string({
      nullable: true,
      description: "ACCESS_CHANGED: the role whose access changed.",
      resolve: (c) => c.role,
    }),
    access: t.string({
      nullable: true,
      description: "ACCESS_CHANGED: NONE, READ or WRITE.",
      resolve: (c) => c.access,
    }),
    actor: t.field({ type: ActorRef, resolve: (c) => c.actor }),
    occurredAt: t.field({ type: "DateTime", resolve: (c) => c.occurredAt }),
    request: t.field({ type: ChangeRequestRef, nullable: true, resolve: (c) => c.request }),
  }),
});

const SchemaChangeEdgeRef = builder.objectRef<SchemaChangeView>("SchemaChangeEdge").implement({
  fields: (t) => ({
    cursor: t.string({ resolve: (c) => c.id }),
    node: t.field({ type: SchemaChangeRef, resolve: (c) => c }),
  }),
});

const SchemaChangeConnectionRef = builder.objectRef<SchemaChangePage>("SchemaChangeConnection").implement({
  fields: (t) => ({
    edges: t.field({ type: [SchemaChangeEdgeRef], resolve: (page) => page.nodes }),
    nodes: t.field({ type: [SchemaChangeRef], resolve: (page) => page.nodes }),
    pageInfo: t.field({
      type: PageInfoRef,
      description:
        "Pass `endCursor` as `after` next time: it advances past scanned changes even when none were visible.",
      resolve: (page) => page,
    }),
    headCursor: t.exposeString("headCursor", {
      description: 'The newest schema change id, for "start from now".',
    }),
  }),
});

builder.queryField("schemaChanges", (t) =>
  t.field({
    type: SchemaChangeConnectionRef,
    description:
      "Schema changes (types, fields, access) after `after`, ascending, as the viewer can see them. first ≤ 1000.",
    args: { after: t.arg.string(), first: t.arg.int() },
    resolve: (_root, args, context) => context.services.schemaChanges.page(actorOf(context), args),
  }),
);

builder.subscriptionField("schemaChanges", (t) =>
  t.field({
    type: SchemaChangeRef,
    description:
      "Schema changes (types, fields, access) after `after`, replayed first, then live ones, as the viewer can see them. " +
      "Without `after`, from the newest. Resume with the last id received.",
    args: { after: t.arg.string() },
    subscribe: (_root, args, context) =>
      context.services.subscriptions.schemaChanges(actorOf(context), {
        after: args.after,
        onRevoked: context.closeConnection
          ? () => context.closeConnection?.(4403, "Forbidden: the credential was revoked or expired")
          : undefined,
      }),
    resolve: (change: SchemaChangeView) => change,
  }),
);

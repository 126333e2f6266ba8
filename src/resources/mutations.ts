import type { Actor } from "../auth/index.ts";
import { actorOf, builder, type Context, fail } from "../kernel/index.ts";
import type { ResourceRow } from "../ledger/index.ts";
import { isValidOrigin } from "../ledger/index.ts";
import { withInputKey } from "./idempotency.ts";
import { ResourceRef, type ResourceView, viewResource } from "./schema.ts";
import { MAX_BULK } from "./service.ts";

/** Resource mutations: one `input`, one payload, thin resolvers over ResourceService. */

async function view(context: Context, row: ResourceRow): Promise<ResourceView> {
  return viewResource(row, await context.catalog(), actorOf(context));
}

const resourcePayload = (name: string) =>
  builder.simpleObject(name, { fields: (t) => ({ resource: t.field({ type: ResourceRef }) }) });

/** Every write mutation's `origin`: the same label as the `X-Plugboard-Origin` header, which it overrides. */
const ORIGIN = {
  description:
    "A label stored on the changes this mutation writes (Change.origin), as the X-Plugboard-Origin header is; it overrides the header. 1 to 200 printable ASCII characters.",
};

/**
 * The actor a mutation writes as: the request's, with the input's `origin` (over the header's) and
 * its `idempotencyKey` echoed on the changes it writes.
 */
function writer(context: Context, input: { origin?: string | null; idempotencyKey?: string | null }): Actor {
  let actor = actorOf(context);
  if (input.origin != null) {
    if (!isValidOrigin(input.origin))
      throw fail.badInput("origin", "origin is 1 to 200 printable ASCII characters.");
    actor = { ...actor, origin: input.origin };
  }
  return withInputKey(actor, input.idempotencyKey);
}

const CreateResourceInput = builder.inputType("CreateResourceInput", {
  fields: (t) => ({
    origin: t.string(ORIGIN),
    type: t.string({ required: true }),
    values: t.field({ type: "JSON", description: "{ fieldKey: value }" }),
    idempotencyKey: t.string({
      description: "A retry with the same key and input returns the first result (24 h).",
    }),
  }),
});
const UpdateResourceInput = builder.inputType("UpdateResourceInput", {
  fields: (t) => ({
    origin: t.string(ORIGIN),
    id: t.id({ required: true }),
    values: t.field({ type: "JSON", description: "Only the fields to change; null clears a field." }),
    expectedVersion: t.int({ description: "Fail with CONFLICT unless the resource is at this version." }),
  }),
});
const UpsertResourceInput = builder.inputType("UpsertResourceInput", {
  fields: (t) => ({
    origin: t.string(ORIGIN),
    type: t.string({ required: true }),
    matchOn: t.stringList({
      required: true,
      description: "Unique fields (or name) whose values find the resource.",
    }),
    values: t.field({ type: "JSON", required: true }),
    idempotencyKey: t.string(),
  }),
});
const DeleteResourceInput = builder.inputType("DeleteResourceInput", {
  fields: (t) => ({
    origin: t.string(ORIGIN),
    id: t.id({ required: true }),
    expectedVersion: t.int(),
  }),
});
const RestoreResourceInput = builder.inputType("RestoreResourceInput", {
  fields: (t) => ({
    origin: t.string(ORIGIN),
    id: t.id({ required: true }),
  }),
});
const CopyResourceInput = builder.inputType("CopyResourceInput", {
  fields: (t) => ({
    origin: t.string(ORIGIN),
    id: t.id({ required: true }),
    values: t.field({
      type: "JSON",
      description: "Values to override in the copy. The copy holds the values of the fields you may write.",
    }),
    idempotencyKey: t.string(),
  }),
});
const LinkResourcesInput = (name: string) =>
  builder.inputType(name, {
    fields: (t) => ({
      origin: t.string(ORIGIN),
      id: t.id({ required: true }),
      field: t.string({ required: true, description: "A LINKS field of the resource's type." }),
      targetIds: t.idList({ required: true }),
    }),
  });
const AssignResourceInput = builder.inputType("AssignResourceInput", {
  fields: (t) => ({
    origin: t.string(ORIGIN),
    id: t.id({ required: true }),
    memberId: t.id({ description: "null unassigns." }),
  }),
});
const MoveResourceInput = builder.inputType("MoveResourceInput", {
  fields: (t) => ({
    origin: t.string(ORIGIN),
    id: t.id({ required: true }),
    parentId: t.id({ description: "null moves to the top level." }),
  }),
});
const CreateResourcesItem = builder.inputType("CreateResourcesItem", {
  fields: (t) => ({ values: t.field({ type: "JSON" }) }),
});
const CreateResourcesInput = builder.inputType("CreateResourcesInput", {
  fields: (t) => ({
    origin: t.string(ORIGIN),
    type: t.string({ required: true }),
    items: t.field({ type: [CreateResourcesItem], required: true }),
    idempotencyKey: t.string(),
  }),
});
const UpdateResourcesItem = builder.inputType("UpdateResourcesItem", {
  fields: (t) => ({
    id: t.id({ required: true }),
    values: t.field({ type: "JSON" }),
    expectedVersion: t.int(),
  }),
});
const UpdateResourcesInput = builder.inputType("UpdateResourcesInput", {
  fields: (t) => ({
    origin: t.string(ORIGIN),
    items: t.field({ type: [UpdateResourcesItem], required: true }),
  }),
});
const DeleteResourcesInput = builder.inputType("DeleteResourcesInput", {
  fields: (t) => ({
    origin: t.string(ORIGIN),
    ids: t.idList({ required: true }),
  }),
});

const UpsertResourcesInput = builder.inputType("UpsertResourcesInput", {
  fields: (t) => ({
    origin: t.string(ORIGIN),
    type: t.string({ required: true }),
    matchOn: t.stringList({
      required: true,
      description:
        'Unique fields (or name) whose values each item holds, as for upsertResource; or ["id"]: items with an id update it, items without create.',
    }),
    items: t.field({
      type: ["JSON"],
      required: true,
      description: `1 to ${MAX_BULK} values objects { fieldKey: value }, applied in order, all or nothing.`,
    }),
    idempotencyKey: t.string(),
  }),
});

const UpsertedResourceRef = builder.simpleObject("UpsertedResource", {
  fields: (f) => ({ resource: f.field({ type: ResourceRef }), created: f.boolean() }),
});

const ids = (list: (string | number)[]) => list.map(String);

builder.mutationFields((t) => ({
  createResource: t.field({
    type: resourcePayload("CreateResourcePayload"),
    args: { input: t.arg({ type: CreateResourceInput, required: true }) },
    resolve: async (_root, { input }, context) => ({
      resource: await view(context, await context.services.resources.create(writer(context, input), input)),
    }),
  }),
  updateResource: t.field({
    type: resourcePayload("UpdateResourcePayload"),
    args: { input: t.arg({ type: UpdateResourceInput, required: true }) },
    resolve: async (_root, { input }, context) => ({
      resource: await view(
        context,
        await context.services.resources.update(writer(context, input), { ...input, id: String(input.id) }),
      ),
    }),
  }),
  upsertResource: t.field({
    type: builder.simpleObject("UpsertResourcePayload", {
      fields: (f) => ({ resource: f.field({ type: ResourceRef }), created: f.boolean() }),
    }),
    args: { input: t.arg({ type: UpsertResourceInput, required: true }) },
    resolve: async (_root, { input }, context) => {
      const { resource, created } = await context.services.resources.upsert(writer(context, input), input);
      return { resource: await view(context, resource), created };
    },
  }),
  deleteResource: t.field({
    type: builder.simpleObject("DeleteResourcePayload", { fields: (f) => ({ deletedId: f.id() }) }),
    args: { input: t.arg({ type: DeleteResourceInput, required: true }) },
    resolve: async (_root, { input }, context) => ({
      deletedId: await context.services.resources.delete(writer(context, input), {
        ...input,
        id: String(input.id),
      }),
    }),
  }),
  restoreResource: t.field({
    type: resourcePayload("RestoreResourcePayload"),
    args: { input: t.arg({ type: RestoreResourceInput, required: true }) },
    resolve: async (_root, { input }, context) => ({
      resource: await view(
        context,
        await context.services.resources.restore(writer(context, input), { id: String(input.id) }),
      ),
    }),
  }),
  copyResource: t.field({
    type: resourcePayload("CopyResourcePayload"),
    args: { input: t.arg({ type: CopyResourceInput, required: true }) },
    resolve: async (_root, { input }, context) => ({
      resource: await view(
        context,
        await context.services.resources.copy(writer(context, input), {
          ...input,
          id: String(input.id),
        }),
      ),
    }),
  }),
  linkResources: t.field({
    type: resourcePayload("LinkResourcesPayload"),
    args: { input: t.arg({ type: LinkResourcesInput("LinkResourcesInput"), required: true }) },
    resolve: async (_root, { input }, context) => ({
      resource: await view(
        context,
        await context.services.resources.link(writer(context, input), {
          id: String(input.id),
          field: input.field,
          targetIds: ids(input.targetIds),
        }),
      ),
    }),
  }),
  unlinkResources: t.field({
    type: resourcePayload("UnlinkResourcesPayload"),
    args: { input: t.arg({ type: LinkResourcesInput("UnlinkResourcesInput"), required: true }) },
    resolve: async (_root, { input }, context) => ({
      resource: await view(
        context,
        await context.services.resources.link(
          writer(context, input),
          { id: String(input.id), field: input.field, targetIds: ids(input.targetIds) },
          true,
        ),
      ),
    }),
  }),
  assignResource: t.field({
    type: resourcePayload("AssignResourcePayload"),
    args: { input: t.arg({ type: AssignResourceInput, required: true }) },
    resolve: async (_root, { input }, context) => ({
      resource: await view(
        context,
        await context.services.resources.assign(writer(context, input), {
          id: String(input.id),
          memberId: input.memberId == null ? null : String(input.memberId),
        }),
      ),
    }),
  }),
  moveResource: t.field({
    type: resourcePayload("MoveResourcePayload"),
    args: { input: t.arg({ type: MoveResourceInput, required: true }) },
    resolve: async (_root, { input }, context) => ({
      resource: await view(
        context,
        await context.services.resources.move(writer(context, input), {
          id: String(input.id),
          parentId: input.parentId == null ? null : String(input.parentId),
        }),
      ),
    }),
  }),
  createResources: t.field({
    type: builder.simpleObject("CreateResourcesPayload", {
      fields: (f) => ({ resources: f.field({ type: [ResourceRef] }) }),
    }),
    args: { input: t.arg({ type: CreateResourcesInput, required: true }) },
    resolve: async (_root, { input }, context) => {
      const rows = await context.services.resources.createMany(writer(context, input), input);
      return { resources: await Promise.all(rows.map((row) => view(context, row))) };
    },
  }),
  updateResources: t.field({
    type: builder.simpleObject("UpdateResourcesPayload", {
      fields: (f) => ({ resources: f.field({ type: [ResourceRef] }) }),
    }),
    args: { input: t.arg({ type: UpdateResourcesInput, required: true }) },
    resolve: async (_root, { input }, context) => {
      const items = input.items.map((item) => ({ ...item, id: String(item.id) }));
      const rows = await context.services.resources.updateMany(writer(context, input), { items });
      return { resources: await Promise.all(rows.map((row) => view(context, row))) };
    },
  }),
  upsertResources: t.field({
    type: builder.simpleObject("UpsertResourcesPayload", {
      fields: (f) => ({
        results: f.field({ type: [UpsertedResourceRef], description: "One per item, in the items' order." }),
      }),
    }),
    args: { input: t.arg({ type: UpsertResourcesInput, required: true }) },
    resolve: async (_root, { input }, context) => {
      const results = await context.services.resources.upsertMany(writer(context, input), input);
      return {
        results: await Promise.all(
          results.map(async ({ resource, created }) => ({
            resource: await view(context, resource),
            created,
          })),
        ),
      };
    },
  }),
  deleteResources: t.field({
    type: builder.simpleObject("DeleteResourcesPayload", { fields: (f) => ({ deletedIds: f.idList() }) }),
    args: { input: t.arg({ type: DeleteResourcesInput, required: true }) },
    resolve: async (_root, { input }, context) => ({
      deletedIds: await context.services.resources.deleteMany(writer(context, input), {
        ids: ids(input.ids),
      }),
    }),
  }),
}));

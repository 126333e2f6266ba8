import { ChangeFilterInput, toChangeFilter } from "../changes/index.ts";
import { actorOf, builder } from "../kernel/index.ts";
import { WebhookDeliveryRef, WebhookRef } from "./schema.ts";

// One `input` argument and one payload per mutation (docs/README.md, "Conventions").

const CreateWebhookInput = builder.inputType("CreateWebhookInput", {
  fields: (t) => ({
    url: t.string({ required: true, description: "http(s); must resolve to a public address." }),
    filter: t.field({ type: ChangeFilterInput }),
    description: t.string(),
    includeSchemaChanges: t.boolean({
      description:
        "Also deliver schema changes (schema.type_created, schema.field_updated, …) the creator can see.",
    }),
  }),
});
const UpdateWebhookInput = builder.inputType("UpdateWebhookInput", {
  fields: (t) => ({
    id: t.id({ required: true }),
    url: t.string(),
    filter: t.field({ type: ChangeFilterInput }),
    description: t.string(),
    includeSchemaChanges: t.boolean(),
    enabled: t.boolean({ description: "true re-enables a disabled webhook; it resumes from its cursor." }),
  }),
});
const IdInput = (name: string) =>
  builder.inputType(name, { fields: (t) => ({ id: t.id({ required: true }) }) });
const DeleteWebhookInput = IdInput("DeleteWebhookInput");
const TestWebhookInput = IdInput("TestWebhookInput");
const RotateWebhookSecretInput = builder.inputType("RotateWebhookSecretInput", {
  fields: (t) => ({
    id: t.id({ required: true }),
    expireCurrentInSeconds: t.int({
      defaultValue: 86_400,
      description: "How long the current secret keeps signing alongside the new one.",
    }),
  }),
});
const RedeliverWebhookDeliveryInput = builder.inputType("RedeliverWebhookDeliveryInput", {
  fields: (t) => ({ deliveryId: t.id({ required: true }) }),
});
const ReplayWebhookInput = builder.inputType("ReplayWebhookInput", {
  fields: (t) => ({
    id: t.id({ required: true }),
    after: t.string({
      required: true,
      description: "A change id: every matching change after it is sent again.",
    }),
  }),
});

const WithSecret = (name: string) =>
  builder.simpleObject(name, {
    fields: (t) => ({
      webhook: t.field({ type: WebhookRef }),
      secret: t.string({ description: "The signing secret (whsec_…). Shown only here: store it now." }),
    }),
  });
const WebhookPayload = (name: string) =>
  builder.simpleObject(name, { fields: (t) => ({ webhook: t.field({ type: WebhookRef }) }) });
const DeliveryPayload = (name: string) =>
  builder.simpleObject(name, { fields: (t) => ({ delivery: t.field({ type: WebhookDeliveryRef }) }) });

const CreateWebhookPayload = WithSecret("CreateWebhookPayload");
const RotateWebhookSecretPayload = WithSecret("RotateWebhookSecretPayload");
const UpdateWebhookPayload = WebhookPayload("UpdateWebhookPayload");
const ReplayWebhookPayload = WebhookPayload("ReplayWebhookPayload");
const TestWebhookPayload = DeliveryPayload("TestWebhookPayload");
const RedeliverWebhookDeliveryPayload = DeliveryPayload("RedeliverWebhookDeliveryPayload");
const DeleteWebhookPayload = builder.simpleObject("DeleteWebhookPayload", {
  fields: (t) => ({ deletedId: t.id() }),
});

builder.mutationFields((t) => ({
  createWebhook: t.field({
    type: CreateWebhookPayload,
    args: { input: t.arg({ type: CreateWebhookInput, required: true }) },
    resolve: (_root, { input }, context) =>
      context.services.webhooks.create(actorOf(context), {
        url: input.url,
        filter: toChangeFilter(input.filter),
        description: input.description ?? null,
        includeSchemaChanges: input.includeSchemaChanges ?? false,
      }),
  }),
  updateWebhook: t.field({
    type: UpdateWebhookPayload,
    args: { input: t.arg({ type: UpdateWebhookInput, required: true }) },
    resolve: async (_root, { input }, context) => ({
      webhook: await context.services.webhooks.update(actorOf(context), {
        id: String(input.id),
        url: input.url ?? null,
        filter: input.filter === undefined ? undefined : toChangeFilter(input.filter),
        description: input.description,
        includeSchemaChanges: input.includeSchemaChanges ?? null,
        enabled: input.enabled ?? null,
      }),
    }),
  }),
  deleteWebhook: t.field({
    type: DeleteWebhookPayload,
    args: { input: t.arg({ type: DeleteWebhookInput, required: true }) },
    resolve: async (_root, { input }, context) => ({
      deletedId: await context.services.webhooks.delete(actorOf(context), String(input.id)),
    }),
  }),
  rotateWebhookSecret: t.field({
    type: RotateWebhookSecretPayload,
    args: { input: t.arg({ type: RotateWebhookSecretInput, required: true }) },
    resolve: (_root, { input }, context) =>
      context.services.webhooks.rotateSecret(actorOf(context), {
        id: String(input.id),
        expireCurrentInSeconds: input.expireCurrentInSeconds ?? null,
      }),
  }),
  testWebhook: t.field({
    type: TestWebhookPayload,
    args: { input: t.arg({ type: TestWebhookInput, required: true }) },
    resolve: async (_root, { input }, context) => ({
      delivery: await context.services.webhooks.test(actorOf(context), String(input.id)),
    }),
  }),
  redeliverWebhookDelivery: t.field({
    type: RedeliverWebhookDeliveryPayload,
    args: { input: t.arg({ type: RedeliverWebhookDeliveryInput, required: true }) },
    resolve: async (_root, { input }, context) => ({
      delivery: await context.services.webhooks.redeliver(actorOf(context), String(input.deliveryId)),
    }),
  }),
  replayWebhook: t.field({
    type: ReplayWebhookPayload,
    args: { input: t.arg({ type: ReplayWebhookInput, required: true }) },
    resolve: async (_root, { input }, context) => ({
      webhook: await context.services.webhooks.replay(actorOf(context), {
        id: String(input.id),
        after: input.after,
      }),
    }),
  }),
}));

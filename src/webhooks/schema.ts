import { MemberRef } from "../auth/index.ts";
import { ChangeKindEnum } from "../changes/index.ts";
import { actorOf, builder, NodeRef, PageInfoRef, registerNode } from "../kernel/index.ts";
import type { ActorSet, ChangeTransition } from "../ledger/index.ts";
import type { DeliveryPage, DeliveryWithAttempts } from "./service.ts";
import type { AttemptRow, StoredFilter, WebhookRow } from "./tables.ts";

export const WebhookStatusEnum = builder.enumType("WebhookStatus", {
  description: "ACTIVE webhooks receive deliveries; DISABLED ones keep their cursor until re-enabled.",
  values: ["ACTIVE", "DISABLED"] as const,
});

export const DeliveryStatusEnum = builder.enumType("DeliveryStatus", {
  description:
    "FAILED: every attempt failed and retries gave up, or the change was no longer retained when due; SKIPPED: nothing visible to send.",
  values: ["PENDING", "SUCCEEDED", "FAILED", "SKIPPED"] as const,
});

const ChangeTransitionSpecRef = builder.objectRef<ChangeTransition>("ChangeTransitionSpec").implement({
  description: "A stored transition; a null side was given as null, an absent one means any.",
  fields: (t) => ({
    field: t.exposeString("field"),
    from: t.field({ type: "JSON", nullable: true, resolve: (x) => x.from }),
    to: t.field({ type: "JSON", nullable: true, resolve: (x) => x.to }),
    anyFrom: t.boolean({ resolve: (x) => x.from === undefined }),
    anyTo: t.boolean({ resolve: (x) => x.to === undefined }),
  }),
});

const ChangeActorsSpecRef = builder.objectRef<ActorSet>("ChangeActorsSpec").implement({
  description: "Actors whose changes a webhook leaves out (excludeSelf is stored here as what it meant).",
  fields: (t) => ({
    memberIds: t.idList({ resolve: (a) => a.memberIds ?? [] }),
    credentialIds: t.idList({ resolve: (a) => a.credentialIds ?? [] }),
    oauthClientIds: t.idList({ resolve: (a) => a.oauthClientIds ?? [] }),
  }),
});

const ChangeFilterSpecRef = builder.objectRef<StoredFilter>("ChangeFilterSpec").implement({
  description: "A webhook's filter; each empty list means any.",
  fields: (t) => ({
    types: t.stringList({ resolve: (f) => f.types }),
    kinds: t.field({ type: [ChangeKindEnum], resolve: (f) => f.kinds }),
    fields: t.stringList({ resolve: (f) => f.fields }),
    resourceIds: t.idList({ resolve: (f) => f.resourceIds }),
    where: t.field({
      type: "JSON",
      nullable: true,
      description: "The ResourceFilter given, as JSON.",
      resolve: (f) => f.where ?? null,
    }),
    transitions: t.field({ type: [ChangeTransitionSpecRef], resolve: (f) => f.transitions ?? [] }),
    excludeActors: t.field({
      type: ChangeActorsSpecRef,
      nullable: true,
      resolve: (f) => f.excludeActors ?? null,
    }),
    origins: t.stringList({ resolve: (f) => f.origins ?? [] }),
    excludeOrigins: t.stringList({ resolve: (f) => f.excludeOrigins ?? [] }),
  }),
});

const DeliveryAttemptRef = builder.objectRef<AttemptRow>("DeliveryAttempt").implement({
  description: "One POST of a delivery: the receiver's answer, or why there was none.",
  fields: (t) => ({
    attempt: t.exposeInt("attempt"),
    at: t.expose("at", { type: "DateTime" }),
    responseStatus: t.exposeInt("responseStatus", { nullable: true }),
    durationMs: t.exposeInt("durationMs"),
    error: t.exposeString("error", { nullable: true }),
    responseBody: t.exposeString("responseBody", {
      nullable: true,
      description: "The start of the response body (at most 1 KiB).",
    }),
  }),
});

export const WebhookDeliveryRef = builder.objectRef<DeliveryWithAttempts>("WebhookDelivery").implement({
  description: "One change sent to one webhook (its id is the `webhook-id` header), or a ping.",
  interfaces: [NodeRef],
  fields: (t) => ({
    id: t.exposeID("id"),
    webhookId: t.exposeID("webhookId"),
    changeId: t.id({
      nullable: true,
      description: "Null for a ping.",
      resolve: (d) => (d.changeSeq == null ? null : String(d.changeSeq)),
    }),
    eventType: t.exposeString("eventType", {
      description: '"<resourceType>.<kind lowercased>", "schema.<kind lowercased>" or "ping".',
    }),
    status: t.field({ type: DeliveryStatusEnum, resolve: (d) => d.status }),
    attempts: t.field({ type: [DeliveryAttemptRef], resolve: (d) => d.attempts }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    lastAttemptAt: t.expose("lastAttemptAt", { type: "DateTime", nullable: true }),
    nextAttemptAt: t.field({
      type: "DateTime",
      nullable: true,
      resolve: (d) => (d.status === "PENDING" ? d.nextAttemptAt : null),
    }),
  }),
});

const WebhookDeliveryEdgeRef = builder.objectRef<DeliveryWithAttempts>("WebhookDeliveryEdge").implement({
  fields: (t) => ({
    cursor: t.string({ resolve: (d) => d.id }),
    node: t.field({ type: WebhookDeliveryRef, resolve: (d) => d }),
  }),
});

const WebhookDeliveryConnectionRef = builder.objectRef<DeliveryPage>("WebhookDeliveryConnection").implement({
  fields: (t) => ({
    edges: t.field({ type: [WebhookDeliveryEdgeRef], resolve: (p) => p.nodes }),
    nodes: t.field({ type: [WebhookDeliveryRef], resolve: (p) => p.nodes }),
    pageInfo: t.field({
      type: PageInfoRef,
      description: "Newest first: pass `endCursor` as `after` for older deliveries.",
      resolve: (p) => ({
        hasNextPage: p.hasNextPage,
        // Paging runs forward only (older deliveries); Relay allows false here.
        hasPreviousPage: false,
        startCursor: p.nodes[0]?.id ?? null,
        endCursor: p.endCursor,
      }),
    }),
  }),
});

export const WebhookRef = builder.objectRef<WebhookRow>("Webhook").implement({
  description: "Signed POSTs of matching changes to a URL, as its creator may read them.",
  interfaces: [NodeRef],
  fields: (t) => ({
    id: t.exposeID("id"),
    url: t.exposeString("url"),
    description: t.exposeString("description", { nullable: true }),
    filter: t.field({ type: ChangeFilterSpecRef, resolve: (w) => w.filter }),
    includeSchemaChanges: t.boolean({
      description: "Whether schema changes the creator can see are delivered too (schema.<kind lowercased>).",
      resolve: (w) => w.includeSchemaChanges,
    }),
    status: t.field({ type: WebhookStatusEnum, resolve: (w) => w.status }),
    disabledReason: t.exposeString("disabledReason", { nullable: true }),
    consecutiveFailures: t.exposeInt("consecutiveFailures"),
    lastDeliveryAt: t.expose("lastDeliveryAt", {
      type: "DateTime",
      nullable: true,
      description: "When a delivery last succeeded.",
    }),
    createdBy: t.field({
      type: MemberRef,
      resolve: async (w, _args, context) => {
        const member = await context.loaders.member.load(w.createdById);
        if (!member) throw new Error(`webhook ${w.id} has no creator`);
        return member;
      },
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    deliveries: t.field({
      type: WebhookDeliveryConnectionRef,
      description: "Newest first. first ≤ 100 (default 20).",
      args: {
        first: t.arg.int(),
        after: t.arg.string(),
        status: t.arg({ type: DeliveryStatusEnum }),
      },
      resolve: (w, args, context) => context.services.webhooks.deliveries(actorOf(context), w, args),
    }),
  }),
});

registerNode("webhook", "Webhook", (id, context) => context.services.webhooks.get(actorOf(context), id));
registerNode("delivery", "WebhookDelivery", (id, context) =>
  context.services.webhooks.delivery(actorOf(context), id),
);

builder.queryFields((t) => ({
  webhooks: t.field({
    type: [WebhookRef],
    description: "Your webhooks; owners and admins see every webhook of the workspace.",
    resolve: (_root, _args, context) => context.services.webhooks.list(actorOf(context)),
  }),
  webhook: t.field({
    type: WebhookRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, context) => context.services.webhooks.get(actorOf(context), String(id)),
  }),
}));

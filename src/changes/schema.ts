import { MemberRef } from "../auth/index.ts";
import { actorOf, builder, PageInfoRef } from "../kernel/index.ts";
import type {
  ChangeFilter,
  ChangePage,
  ChangeView,
  StoredActor,
  StoredFieldChange,
  StoredRequest,
} from "../ledger/index.ts";
import { ResourceFilterInput, ResourceRef, SortDirection, viewResource } from "../resources/index.ts";

export const ChangeKindEnum = builder.enumType("ChangeKind", {
  values: ["CREATED", "UPDATED", "DELETED", "RESTORED"] as const,
});

const ActorKindEnum = builder.enumType("ActorKind", {
  description: "What made a change: a member with an API key, OAuth token or password, or the system.",
  values: ["API_KEY", "OAUTH", "MEMBER", "SYSTEM"] as const,
});

export const ActorRef = builder.objectRef<StoredActor>("Actor").implement({
  description: "Who made a change.",
  fields: (t) => ({
    kind: t.field({
      type: ActorKindEnum,
      resolve: (actor) =>
        (({ api_key: "API_KEY", oauth: "OAUTH", member: "MEMBER", system: "SYSTEM" }) as const)[actor.kind],
    }),
    member: t.field({
      type: MemberRef,
      nullable: true,
      resolve: (actor, _args, context) =>
        actor.memberId ? context.loaders.member.load(actor.memberId) : null,
    }),
    credentialId: t.id({
      nullable: true,
      description: "The API key or OAuth client used.",
      resolve: (actor) => actor.credentialId,
    }),
  }),
});

const FieldChangeRef = builder.objectRef<StoredFieldChange>("FieldChange").implement({
  description: "One changed field: its stable id, key, friendly name, and old and new values.",
  fields: (t) => ({
    fieldId: t.id({ resolve: (c) => c.fieldId }),
    key: t.exposeString("key"),
    name: t.exposeString("name"),
    previousValue: t.field({ type: "JSON", nullable: true, resolve: (c) => c.previousValue }),
    value: t.field({ type: "JSON", nullable: true, resolve: (c) => c.value }),
    added: t.field({
      type: ["JSON"],
      nullable: true,
      description: "LINKS and MULTI_SELECT",
      resolve: (c) => c.added ?? null,
    }),
    removed: t.field({ type: ["JSON"], nullable: true, resolve: (c) => c.removed ?? null }),
  }),
});

export const ChangeRequestRef = builder.objectRef<StoredRequest>("ChangeRequest").implement({
  description: "The HTTP request a change came from: match a write to its change, or spot your own retries.",
  fields: (t) => ({
    idempotencyKey: t.string({
      nullable: true,
      description: "The request's Idempotency-Key header.",
      resolve: (r) => r.idempotencyKey,
    }),
    requestId: t.string({
      nullable: true,
      description: "The request's X-Request-Id (sent or assigned).",
      resolve: (r) => r.requestId,
    }),
  }),
});

export const ChangeRef = builder.objectRef<ChangeView>("Change").implement({
  description: "A create, update, delete or restore of a resource, with the changed fields and their values.",
  fields: (t) => ({
    id: t.id({
      description: 'Dense, incrementing, per workspace: "1", "2", …; also the cursor.',
      resolve: (c) => c.id,
    }),
    kind: t.field({ type: ChangeKindEnum, resolve: (c) => c.kind }),
    resourceType: t.exposeString("resourceType"),
    resourceId: t.id({ resolve: (c) => c.resourceId }),
    resource: t.field({
      type: ResourceRef,
      nullable: true,
      description: "Current state; null when deleted or not readable.",
      resolve: async (change, _args, context) => {
        const row = await context.loaders.resource.load(change.resourceId);
        return row ? viewResource(row, await context.catalog(), actorOf(context)) : null;
      },
    }),
    occurredAt: t.field({ type: "DateTime", resolve: (c) => c.occurredAt }),
    actor: t.field({ type: ActorRef, resolve: (c) => c.actor }),
    fields: t.field({ type: [FieldChangeRef], resolve: (c) => c.fields }),
    snapshot: t.field({
      type: "JSON",
      description: "Readable values just after the change (just before, for DELETED).",
      resolve: (c) => c.snapshot,
    }),
    version: t.int({ resolve: (c) => c.version }),
    origin: t.string({
      nullable: true,
      description:
        "The X-Plugboard-Origin header of the request that made the change (filter on it with origins / excludeOrigins).",
      resolve: (c) => c.origin,
    }),
    request: t.field({
      type: ChangeRequestRef,
      nullable: true,
      description: "The request that made the change; null for background work.",
      resolve: (c) => c.request,
    }),
  }),
});

const ChangeTransitionInput = builder.inputType("ChangeTransition", {
  description:
    '"Became X": the field changed from `from` to `to`. An absent side means any value; a creation counts as from null.',
  fields: (t) => ({
    field: t.string({ required: true }),
    from: t.field({ type: "JSON" }),
    to: t.field({ type: "JSON" }),
  }),
});

const ChangeActorsInput = builder.inputType("ChangeActors", {
  description: "Changes made by any of these are left out.",
  fields: (t) => ({
    memberIds: t.idList({ description: "Changes by these members, whatever credential they used." }),
    credentialIds: t.idList({ description: "Changes made with these API keys or OAuth clients." }),
    oauthClientIds: t.idList({ description: "Changes made through these OAuth clients." }),
  }),
});

export const ChangeFilterInput = builder.inputType("ChangeFilter", {
  description:
    "Each part: empty or absent means any. A change matches when it matches every part given. Fields named in fields, where and transitions must be readable by the reader (else BAD_USER_INPUT naming the field).",
  fields: (t) => ({
    types: t.stringList(),
    kinds: t.field({ type: [ChangeKindEnum] }),
    fields: t.stringList({ description: "Matches when one of these field keys changed." }),
    resourceIds: t.idList(),
    where: t.field({
      type: ResourceFilterInput,
      description:
        "Evaluated on the change's snapshot (the values just after it; just before, for DELETED), with the operators of resources(where:). A type without every named field never matches.",
    }),
    transitions: t.field({
      type: [ChangeTransitionInput],
      description: "Every transition must be in the change's changed fields.",
    }),
    excludeActors: t.field({ type: ChangeActorsInput }),
    excludeSelf: t.boolean({
      description:
        "Leaves out the reader's own changes: those made with its API key or OAuth client; with a password, its member's. A webhook stores what it meant at creation.",
    }),
    origins: t.stringList({ description: "Only changes whose X-Plugboard-Origin is one of these." }),
    excludeOrigins: t.stringList({
      description: "Leaves out changes whose X-Plugboard-Origin is one of these (changes without one stay).",
    }),
  }),
});

type ChangeFilterArgument = (typeof ChangeFilterInput)["$inferInput"];

export function toChangeFilter(input: ChangeFilterArgument | null | undefined): ChangeFilter | null {
  if (!input) return null;
  const ids = (values: readonly (string | number)[] | null | undefined) => values?.map(String) ?? null;
  return {
    ...input,
    resourceIds: ids(input.resourceIds),
    excludeActors: input.excludeActors
      ? {
          memberIds: ids(input.excludeActors.memberIds),
          credentialIds: ids(input.excludeActors.credentialIds),
          oauthClientIds: ids(input.excludeActors.oauthClientIds),
        }
      : null,
  };
}

const ChangeEdgeRef = builder.objectRef<ChangeView>("ChangeEdge").implement({
  fields: (t) => ({
    cursor: t.string({ resolve: (c) => c.id }),
    node: t.field({ type: ChangeRef, resolve: (c) => c }),
  }),
});

const ChangeConnectionRef = builder.objectRef<ChangePage>("ChangeConnection").implement({
  fields: (t) => ({
    edges: t.field({ type: [ChangeEdgeRef], resolve: (page) => page.nodes }),
    nodes: t.field({ type: [ChangeRef], resolve: (page) => page.nodes }),
    pageInfo: t.field({
      type: PageInfoRef,
      description:
        "Pass `endCursor` as `after` next time: it advances past scanned changes even when none matched.",
      resolve: (page) => page,
    }),
    headCursor: t.exposeString("headCursor", { description: 'The newest change id, for "start from now".' }),
  }),
});

builder.queryField("changes", (t) =>
  t.field({
    type: ChangeConnectionRef,
    description:
      "Every change after `after`, ascending; `last: N` without `after` gives the newest N. `order: DESC` walks from the newest down (`after` then means below it). `since` starts at the first change at or after a time (ascending only). first ≤ 1000.",
    args: {
      after: t.arg.string(),
      first: t.arg.int(),
      last: t.arg.int(),
      filter: t.arg({ type: ChangeFilterInput }),
      order: t.arg({ type: SortDirection, description: "ASC (default): oldest first. DESC: newest first." }),
      since: t.arg({ type: "DateTime", description: "Instead of after: start at this time." }),
    },
    resolve: (_root, args, context) =>
      context.services.changes.page(actorOf(context), { ...args, filter: toChangeFilter(args.filter) }),
  }),
);

builder.queryField("cursorAt", (t) =>
  t.string({
    description:
      "The cursor just before the first change at or after `time`: pass it as `after` to read from that time on. After the newest change it is the head.",
    args: { time: t.arg({ type: "DateTime", required: true }) },
    resolve: (_root, args, context) => context.services.changes.cursorAtFor(actorOf(context), args.time),
  }),
);

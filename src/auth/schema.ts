import { actorOf, builder, fail, NodeRef, registerNode } from "../kernel/index.ts";
import { roles, scopes } from "./roles.ts";
import type { ApiKeyRow, MemberRow, WorkspaceRow } from "./tables.ts";

export const RoleEnum = builder.enumType("Role", {
  description: "A member's role in the workspace. Owners and admins manage it; viewers only read.",
  values: roles,
});
export const ScopeEnum = builder.enumType("Scope", {
  description: "What a credential may do; scopes narrow the member's role, never widen it.",
  values: scopes,
});

export const WorkspaceRef = builder.objectRef<WorkspaceRow>("Workspace").implement({
  description: "The authenticated instance: every credential belongs to exactly one workspace.",
  interfaces: [NodeRef],
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name"),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

export const MemberRef = builder.objectRef<MemberRow>("Member").implement({
  description: "A person or service account in the workspace.",
  interfaces: [NodeRef],
  fields: (t) => ({
    id: t.exposeID("id"),
    email: t.exposeString("email"),
    name: t.exposeString("name", { nullable: true }),
    role: t.expose("role", { type: RoleEnum }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

export const ApiKeyRef = builder.objectRef<ApiKeyRow>("ApiKey").implement({
  description: "An API key. Only its hash is stored; the token is shown once, at creation.",
  interfaces: [NodeRef],
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name"),
    prefix: t.exposeString("prefix", { description: "The token's first characters, to recognise it." }),
    scopes: t.field({ type: [ScopeEnum], resolve: (key) => key.scopes }),
    member: t.field({
      type: MemberRef,
      resolve: async (key, _args, context) => {
        const member = await context.loaders.member.load(key.memberId);
        if (!member) throw new Error(`api key ${key.id} has no member`);
        return member;
      },
    }),
    expiresAt: t.expose("expiresAt", { type: "DateTime", nullable: true }),
    lastUsedAt: t.expose("lastUsedAt", {
      type: "DateTime",
      nullable: true,
      description: "When the key was last used, to the minute.",
    }),
    revokedAt: t.expose("revokedAt", { type: "DateTime", nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

interface ViewerShape {
  memberId: string;
  workspaceId: string;
  scopes: (typeof scopes)[number][];
}

const ViewerRef = builder.objectRef<ViewerShape>("Viewer").implement({
  description: "Who the credential belongs to, and what it may do.",
  fields: (t) => ({
    member: t.field({
      type: MemberRef,
      resolve: (viewer, _args, context) => {
        // The credential's own member was read when it was verified: answer without a promise.
        if (context.actor?.memberId === viewer.memberId) return context.actor.member;
        return context.loaders.member.load(viewer.memberId).then((member) => {
          if (!member) throw fail.unauthenticated("This credential's member no longer exists.", true);
          return member;
        });
      },
    }),
    workspace: t.field({
      type: WorkspaceRef,
      resolve: async (viewer, _args, context) => {
        const workspace = await context.loaders.workspace.load(viewer.workspaceId);
        if (!workspace) throw fail.unauthenticated("This credential's workspace no longer exists.", true);
        return workspace;
      },
    }),
    scopes: t.field({ type: [ScopeEnum], resolve: (viewer) => viewer.scopes }),
  }),
});

registerNode("workspace", "Workspace", (id, context) => context.loaders.workspace.load(id));
registerNode("member", "Member", async (id, context) => {
  const member = await context.loaders.member.load(id);
  return member && !member.removedAt ? member : null;
});
registerNode("apiKey", "ApiKey", async (id, context) => {
  const keys = await context.services.apiKeys.list(actorOf(context));
  return keys.find((key) => key.id === id) ?? null;
});

builder.queryFields((t) => ({
  viewer: t.field({
    type: ViewerRef,
    resolve: (_root, _args, context) => {
      const actor = actorOf(context);
      return { memberId: actor.memberId, workspaceId: actor.workspaceId, scopes: actor.scopes };
    },
  }),
  members: t.field({
    type: [MemberRef],
    description: "The workspace's current members.",
    resolve: (_root, _args, context) => context.services.members.list(actorOf(context)),
  }),
  apiKeys: t.field({
    type: [ApiKeyRef],
    description: "Your own API keys; owners and admins see every key of the workspace.",
    resolve: (_root, _args, context) => context.services.apiKeys.list(actorOf(context)),
  }),
}));

// Mutations: one `input` argument, one payload (docs/README.md, "Conventions").

const CreateMemberInput = builder.inputType("CreateMemberInput", {
  fields: (t) => ({
    email: t.string({ required: true }),
    name: t.string(),
    role: t.field({ type: RoleEnum, required: true }),
  }),
});
const UpdateMemberRoleInput = builder.inputType("UpdateMemberRoleInput", {
  fields: (t) => ({
    memberId: t.id({ required: true }),
    role: t.field({ type: RoleEnum, required: true }),
  }),
});
const RemoveMemberInput = builder.inputType("RemoveMemberInput", {
  fields: (t) => ({ memberId: t.id({ required: true }) }),
});
const CreateApiKeyInput = builder.inputType("CreateApiKeyInput", {
  fields: (t) => ({
    name: t.string({ required: true }),
    scopes: t.field({ type: [ScopeEnum], description: "Default: everything the member's role allows." }),
    expiresAt: t.field({ type: "DateTime" }),
    memberId: t.id({ description: "Issue the key for another member (owners and admins only)." }),
  }),
});
const RevokeApiKeyInput = builder.inputType("RevokeApiKeyInput", {
  fields: (t) => ({ id: t.id({ required: true }) }),
});

const MemberPayload = (name: string) =>
  builder.simpleObject(name, { fields: (t) => ({ member: t.field({ type: MemberRef }) }) });
const CreateMemberPayload = MemberPayload("CreateMemberPayload");
const UpdateMemberRolePayload = MemberPayload("UpdateMemberRolePayload");
const RemoveMemberPayload = builder.simpleObject("RemoveMemberPayload", {
  fields: (t) => ({ deletedId: t.id() }),
});
const CreateApiKeyPayload = builder.simpleObject("CreateApiKeyPayload", {
  fields: (t) => ({
    apiKey: t.field({ type: ApiKeyRef }),
    token: t.string({ description: "The key itself. Shown only here: store it now." }),
  }),
});
const RevokeApiKeyPayload = builder.simpleObject("RevokeApiKeyPayload", {
  fields: (t) => ({ apiKey: t.field({ type: ApiKeyRef }) }),
});

builder.mutationFields((t) => ({
  createMember: t.field({
    type: CreateMemberPayload,
    args: { input: t.arg({ type: CreateMemberInput, required: true }) },
    resolve: async (_root, { input }, context) => ({
      member: await context.services.members.create(actorOf(context), input),
    }),
  }),
  updateMemberRole: t.field({
    type: UpdateMemberRolePayload,
    args: { input: t.arg({ type: UpdateMemberRoleInput, required: true }) },
    resolve: async (_root, { input }, context) => ({
      member: await context.services.members.updateRole(actorOf(context), {
        memberId: String(input.memberId),
        role: input.role,
      }),
    }),
  }),
  removeMember: t.field({
    type: RemoveMemberPayload,
    args: { input: t.arg({ type: RemoveMemberInput, required: true }) },
    resolve: async (_root, { input }, context) => ({
      deletedId: await context.services.members.remove(actorOf(context), {
        memberId: String(input.memberId),
      }),
    }),
  }),
  createApiKey: t.field({
    type: CreateApiKeyPayload,
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    resolve: (_root, { input }, context) =>
      context.services.apiKeys.create(actorOf(context), {
        name: input.name,
        scopes: input.scopes ?? null,
        expiresAt: input.expiresAt ?? null,
        memberId: input.memberId == null ? null : String(input.memberId),
      }),
  }),
  revokeApiKey: t.field({
    type: RevokeApiKeyPayload,
    args: { input: t.arg({ type: RevokeApiKeyInput, required: true }) },
    resolve: async (_root, { input }, context) => ({
      apiKey: await context.services.apiKeys.revoke(actorOf(context), String(input.id)),
    }),
  }),
}));

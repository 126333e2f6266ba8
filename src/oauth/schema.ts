import { actorOf, builder, NodeRef, registerNode } from "../kernel/index.ts";
import type { OAuthClientRow } from "./tables.ts";

export const OAuthClientRef = builder.objectRef<OAuthClientRow>("OAuthClient").implement({
  description: "An application that connects through OAuth 2.0 (a connector platform, an integration).",
  interfaces: [NodeRef],
  fields: (t) => ({
    id: t.exposeID("id"),
    clientId: t.exposeString("clientId", { description: "The OAuth `client_id`." }),
    name: t.exposeString("name"),
    redirectUris: t.exposeStringList("redirectUris"),
    confidential: t.exposeBoolean("confidential", {
      description: "Confidential clients authenticate with a secret; public ones must use PKCE.",
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

registerNode("oauthClient", "OAuthClient", async (id, context) => {
  const actor = actorOf(context);
  if (!actor.scopes.includes("ADMIN")) return null;
  const clients = await context.services.oauthClients.list(actor).catch(() => []);
  return clients.find((client) => client.id === id) ?? null;
});

builder.queryField("oauthClients", (t) =>
  t.field({
    type: [OAuthClientRef],
    description: "The workspace's OAuth clients (owners and admins).",
    resolve: (_root, _args, context) => context.services.oauthClients.list(actorOf(context)),
  }),
);

const CreateOAuthClientInput = builder.inputType("CreateOAuthClientInput", {
  fields: (t) => ({
    name: t.string({ required: true }),
    redirectUris: t.stringList({
      required: true,
      description: "Where authorization codes may be sent: https, or http on localhost/127.0.0.1.",
    }),
    confidential: t.boolean({
      required: true,
      description: "true: a server-side client with a secret (and client credentials); false: public, PKCE.",
    }),
  }),
});
const DeleteOAuthClientInput = builder.inputType("DeleteOAuthClientInput", {
  fields: (t) => ({ id: t.id({ required: true }) }),
});
const CreateOAuthClientPayload = builder.simpleObject("CreateOAuthClientPayload", {
  fields: (t) => ({
    oauthClient: t.field({ type: OAuthClientRef }),
    clientSecret: t.string({
      nullable: true,
      description: "The client secret (confidential clients). Shown only here: store it now.",
    }),
  }),
});
const DeleteOAuthClientPayload = builder.simpleObject("DeleteOAuthClientPayload", {
  fields: (t) => ({ deletedId: t.id() }),
});

builder.mutationFields((t) => ({
  createOAuthClient: t.field({
    type: CreateOAuthClientPayload,
    args: { input: t.arg({ type: CreateOAuthClientInput, required: true }) },
    resolve: (_root, { input }, context) => context.services.oauthClients.create(actorOf(context), input),
  }),
  deleteOAuthClient: t.field({
    type: DeleteOAuthClientPayload,
    description: "Deletes a client; its tokens stop working at once.",
    args: { input: t.arg({ type: DeleteOAuthClientInput, required: true }) },
    resolve: async (_root, { input }, context) => ({
      deletedId: await context.services.oauthClients.delete(actorOf(context), String(input.id)),
    }),
  }),
}));

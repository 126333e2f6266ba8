/**
 * Every public operation, with an input that would succeed for the owner of the fixtures' workspace
 * and the narrowest scope that may run it. The security suite (everyOperation.test.ts) runs each one
 * without a credential, with a revoked one, with too narrow a scope, from another workspace and as
 * a member who cannot read a field — and fails when an operation of the schema is missing here, so
 * a new operation cannot ship without those checks.
 */
export interface Fixtures {
  contactId: string;
  accountId: string;
  webhookId: string;
  deliveryId: string;
  fileId: string;
  apiKeyId: string;
  memberId: string;
  oauthClientId: string;
  headCursor: string;
}

export type Scope = "READ" | "WRITE" | "ADMIN";

export interface Operation {
  kind: "query" | "mutation" | "subscription";
  /** The narrowest scope a credential needs for it. */
  scope: Scope;
  /**
   * The code a credential without that scope gets: FORBIDDEN, unless what it names does not exist
   * for such a credential (another member's key is invisible without ADMIN).
   */
  refusedAs?: "FORBIDDEN" | "NOT_FOUND";
  document: string;
  variables: (f: Fixtures) => Record<string, unknown>;
}

const none = () => ({});
const input = (make: (f: Fixtures) => Record<string, unknown>) => (f: Fixtures) => ({ input: make(f) });
const RESOURCE = "resource { id name values }";
const m = (name: string, inputType: string, selection: string, scope: Scope = "WRITE") =>
  ({
    kind: "mutation",
    scope,
    document: `mutation($input: ${inputType}!) { ${name}(input: $input) { ${selection} } }`,
  }) as const;

export const operations: Record<string, Operation> = {
  // Queries
  viewer: {
    kind: "query",
    scope: "READ",
    document: "{ viewer { member { id email } scopes } }",
    variables: none,
  },
  apiKeys: { kind: "query", scope: "READ", document: "{ apiKeys { id name } }", variables: none },
  members: { kind: "query", scope: "READ", document: "{ members { id email } }", variables: none },
  oauthClients: { kind: "query", scope: "ADMIN", document: "{ oauthClients { id name } }", variables: none },
  resourceTypes: {
    kind: "query",
    scope: "READ",
    document: "{ resourceTypes { key fields { key } } }",
    variables: none,
  },
  resourceType: {
    kind: "query",
    scope: "READ",
    document: `{ resourceType(key: "contact") { key fields { key } } }`,
    variables: none,
  },
  customFields: { kind: "query", scope: "READ", document: "{ customFields { id key } }", variables: none },
  resources: {
    kind: "query",
    scope: "READ",
    document: `{ resources(type: "contact", first: 50) { nodes { id name values } } }`,
    variables: none,
  },
  resource: {
    kind: "query",
    scope: "READ",
    document: "query($id: ID!) { resource(id: $id) { id name values } }",
    variables: (f) => ({ id: f.contactId }),
  },
  node: {
    kind: "query",
    scope: "READ",
    document: "query($id: ID!) { node(id: $id) { id ... on Resource { name values } } }",
    variables: (f) => ({ id: f.contactId }),
  },
  cursorAt: {
    kind: "query",
    scope: "READ",
    document: `query($t: DateTime!) { cursorAt(time: $t) }`,
    variables: () => ({ t: "2026-01-01T00:00:00Z" }),
  },
  changes: {
    kind: "query",
    scope: "READ",
    document: `{ changes(after: "0", first: 100) { nodes { id resourceId snapshot fields { key added removed } } } }`,
    variables: none,
  },
  schemaChanges: {
    kind: "query",
    scope: "READ",
    document: `{ schemaChanges(after: "0", first: 100) { nodes { id kind resourceType fieldKey role access } headCursor } }`,
    variables: none,
  },
  file: {
    kind: "query",
    scope: "READ",
    document: "query($id: ID!) { file(id: $id) { id name } }",
    variables: (f) => ({ id: f.fileId }),
  },
  files: {
    kind: "query",
    scope: "READ",
    document: "query($ids: [ID!]!) { files(ids: $ids) { id name } }",
    variables: (f) => ({ ids: [f.fileId] }),
  },
  webhooks: { kind: "query", scope: "READ", document: "{ webhooks { id url } }", variables: none },
  webhook: {
    kind: "query",
    scope: "READ",
    document: "query($id: ID!) { webhook(id: $id) { id url } }",
    variables: (f) => ({ id: f.webhookId }),
  },

  // Resources
  createResource: {
    ...m("createResource", "CreateResourceInput", RESOURCE),
    variables: input(() => ({ type: "contact", values: { name: "New" } })),
  },
  createResources: {
    ...m("createResources", "CreateResourcesInput", "resources { id }"),
    variables: input(() => ({ type: "contact", items: [{ values: { name: "Bulk" } }] })),
  },
  updateResource: {
    ...m("updateResource", "UpdateResourceInput", RESOURCE),
    variables: input((f) => ({ id: f.contactId, values: { name: "Renamed" } })),
  },
  updateResources: {
    ...m("updateResources", "UpdateResourcesInput", "resources { id }"),
    variables: input((f) => ({ items: [{ id: f.contactId, values: { name: "Renamed" } }] })),
  },
  upsertResource: {
    ...m("upsertResource", "UpsertResourceInput", `created ${RESOURCE}`),
    variables: input(() => ({ type: "contact", matchOn: ["name"], values: { name: "Upserted" } })),
  },
  upsertResources: {
    ...m("upsertResources", "UpsertResourcesInput", `results { created ${RESOURCE} }`),
    variables: input((f) => ({
      type: "contact",
      matchOn: ["id"],
      items: [{ id: f.contactId, title: "Upserted" }],
    })),
  },
  copyResource: {
    ...m("copyResource", "CopyResourceInput", RESOURCE),
    variables: input((f) => ({ id: f.contactId })),
  },
  deleteResource: {
    ...m("deleteResource", "DeleteResourceInput", "deletedId"),
    variables: input((f) => ({ id: f.contactId })),
  },
  deleteResources: {
    ...m("deleteResources", "DeleteResourcesInput", "deletedIds"),
    variables: input((f) => ({ ids: [f.contactId] })),
  },
  restoreResource: {
    ...m("restoreResource", "RestoreResourceInput", RESOURCE),
    variables: input((f) => ({ id: f.contactId })),
  },
  linkResources: {
    ...m("linkResources", "LinkResourcesInput", RESOURCE),
    variables: input((f) => ({ id: f.contactId, field: "accounts", targetIds: [f.accountId] })),
  },
  unlinkResources: {
    ...m("unlinkResources", "UnlinkResourcesInput", RESOURCE),
    variables: input((f) => ({ id: f.contactId, field: "accounts", targetIds: [f.accountId] })),
  },
  assignResource: {
    ...m("assignResource", "AssignResourceInput", RESOURCE),
    variables: input((f) => ({ id: f.contactId, memberId: f.memberId })),
  },
  moveResource: {
    ...m("moveResource", "MoveResourceInput", RESOURCE),
    variables: input((f) => ({ id: f.contactId, parentId: f.accountId })),
  },

  // Files (uploadFile is multipart; the suite sends it as the GraphQL multipart request spec says)
  uploadFile: {
    ...m("uploadFile", "UploadFileInput", "file { id }"),
    variables: input((f) => ({ file: null, resourceId: f.contactId, field: "attachments" })),
  },
  importFileFromUrl: {
    ...m("importFileFromUrl", "ImportFileFromUrlInput", "file { id }"),
    variables: input((f) => ({
      url: "http://127.0.0.1:9/file.txt",
      resourceId: f.contactId,
      field: "attachments",
    })),
  },

  // Resource types and fields
  createResourceType: {
    ...m("createResourceType", "CreateResourceTypeInput", "resourceType { key }", "ADMIN"),
    variables: input(() => ({ key: "project", name: "Project" })),
  },
  updateResourceType: {
    ...m("updateResourceType", "UpdateResourceTypeInput", "resourceType { key }", "ADMIN"),
    variables: input(() => ({ key: "contact", name: "Person" })),
  },
  deleteResourceType: {
    ...m("deleteResourceType", "DeleteResourceTypeInput", "deletedId", "ADMIN"),
    variables: input(() => ({ key: "contact", force: true })),
  },
  setTypeAccess: {
    ...m("setTypeAccess", "SetTypeAccessInput", "resourceType { key }", "ADMIN"),
    variables: input(() => ({ resourceType: "contact", role: "VIEWER", access: "WRITE" })),
  },
  createField: {
    ...m("createField", "CreateFieldInput", "field { id }", "ADMIN"),
    variables: input(() => ({ resourceType: "contact", key: "extra", name: "Extra", type: "TEXT" })),
  },
  updateField: {
    ...m("updateField", "UpdateFieldInput", "field { id }", "ADMIN"),
    variables: input(() => ({ resourceType: "contact", key: "secret", name: "Open" })),
  },
  deleteField: {
    ...m("deleteField", "DeleteFieldInput", "deletedId", "ADMIN"),
    variables: input(() => ({ resourceType: "contact", key: "secret" })),
  },
  setFieldAccess: {
    ...m("setFieldAccess", "SetFieldAccessInput", "field { key }", "ADMIN"),
    variables: input(() => ({ resourceType: "contact", field: "secret", role: "VIEWER", access: "READ" })),
  },

  // Webhooks: any member may manage their own (they deliver only what the creator can read)
  createWebhook: {
    ...m("createWebhook", "CreateWebhookInput", "webhook { id } secret", "READ"),
    variables: input(() => ({ url: "http://127.0.0.1:9/hook" })),
  },
  updateWebhook: {
    ...m("updateWebhook", "UpdateWebhookInput", "webhook { id url }", "READ"),
    variables: input((f) => ({ id: f.webhookId, url: "http://127.0.0.1:9/elsewhere" })),
  },
  deleteWebhook: {
    ...m("deleteWebhook", "DeleteWebhookInput", "deletedId", "READ"),
    variables: input((f) => ({ id: f.webhookId })),
  },
  rotateWebhookSecret: {
    ...m("rotateWebhookSecret", "RotateWebhookSecretInput", "secret", "READ"),
    variables: input((f) => ({ id: f.webhookId })),
  },
  testWebhook: {
    ...m("testWebhook", "TestWebhookInput", "delivery { id }", "READ"),
    variables: input((f) => ({ id: f.webhookId })),
  },
  replayWebhook: {
    ...m("replayWebhook", "ReplayWebhookInput", "webhook { id }", "READ"),
    variables: input((f) => ({ id: f.webhookId, after: "0" })),
  },
  redeliverWebhookDelivery: {
    ...m("redeliverWebhookDelivery", "RedeliverWebhookDeliveryInput", "delivery { id }", "READ"),
    variables: input((f) => ({ deliveryId: f.deliveryId })),
  },

  // Credentials and members
  createApiKey: {
    ...m("createApiKey", "CreateApiKeyInput", "token apiKey { id }", "ADMIN"),
    variables: input((f) => ({ name: "minted", memberId: f.memberId })),
  },
  revokeApiKey: {
    ...m("revokeApiKey", "RevokeApiKeyInput", "apiKey { id }", "ADMIN"),
    refusedAs: "NOT_FOUND",
    variables: input((f) => ({ id: f.apiKeyId })),
  },
  setPassword: {
    ...m("setPassword", "SetPasswordInput", "member { id }"),
    variables: input(() => ({ password: "a new password 123" })),
  },
  createMember: {
    ...m("createMember", "CreateMemberInput", "member { id }", "ADMIN"),
    variables: input(() => ({ email: "intruder@example.com", role: "OWNER" })),
  },
  updateMemberRole: {
    ...m("updateMemberRole", "UpdateMemberRoleInput", "member { id role }", "ADMIN"),
    variables: input((f) => ({ memberId: f.memberId, role: "ADMIN" })),
  },
  removeMember: {
    ...m("removeMember", "RemoveMemberInput", "deletedId", "ADMIN"),
    variables: input((f) => ({ memberId: f.memberId })),
  },
  createOAuthClient: {
    ...m("createOAuthClient", "CreateOAuthClientInput", "oauthClient { id } clientSecret", "ADMIN"),
    variables: input(() => ({
      name: "Rogue",
      confidential: true,
      redirectUris: ["https://rogue.example/cb"],
    })),
  },
  deleteOAuthClient: {
    ...m("deleteOAuthClient", "DeleteOAuthClientInput", "deletedId", "ADMIN"),
    variables: input((f) => ({ id: f.oauthClientId })),
  },

  // Subscriptions
  "subscription changes": {
    kind: "subscription",
    scope: "READ",
    document: `subscription { changes(after: "0") { id resourceId snapshot fields { key added removed } } }`,
    variables: none,
  },
  "subscription schemaChanges": {
    kind: "subscription",
    scope: "READ",
    document: `subscription { schemaChanges(after: "0") { id kind resourceType fieldKey } }`,
    variables: none,
  },
};

import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { buildSchema } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, api, createResource, type Data, memberApi } from "../helpers/api.ts";
import { startServer, type Tenant, type TestServer } from "../helpers/server.ts";
import { type Fixtures, type Operation, operations } from "./operations.ts";

/**
 * One security suite over every query, mutation and subscription (operations.ts lists them, and
 * the first test fails when the schema has one it does not): each is refused without a credential
 * and with a revoked one, refused with too narrow a scope, finds nothing of another workspace, and
 * never shows a member a field hidden from them.
 */
let server: TestServer;
let owner: Api;
let fixtures: Fixtures;
let revokedToken: string;
let readOnlyToken: string;
let readWriteToken: string;
let viewer: Api;
let stranger: Tenant;
const SECRET = `classified-${randomBytes(6).toString("hex")}`;

interface Outcome {
  status: number;
  text: string;
  data: Data;
  code: unknown;
}

/** Runs an operation as any client would: JSON POST, multipart for uploads, SSE for subscriptions. */
async function run(name: string, op: Operation, token: string | null): Promise<Outcome> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  const variables = op.variables(fixtures);
  let response: Response;
  if (name === "uploadFile") {
    const body = new FormData();
    body.append("operations", JSON.stringify({ query: op.document, variables }));
    body.append("map", JSON.stringify({ 0: ["variables.input.file"] }));
    body.append("0", new Blob([SECRET]), "upload.txt");
    response = await fetch(server.graphqlUrl, {
      method: "POST",
      headers: { ...headers, "graphql-require-preflight": "1" },
      body,
    });
  } else if (op.kind === "subscription") {
    const abort = new AbortController();
    response = await fetch(server.graphqlUrl, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ query: op.document, variables }),
      signal: abort.signal,
    });
    if (response.headers.get("content-type")?.startsWith("text/event-stream")) {
      // What the stream sends in its first second (the replay from cursor 0 comes at once; a
      // refusal comes as an error event with the HTTP status).
      const timer = setTimeout(() => abort.abort(), 1000);
      let text = "";
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          text += Buffer.from(chunk).toString("utf8");
        }
      } catch {
        // aborted: the second is over
      } finally {
        clearTimeout(timer);
      }
      const events = [...text.matchAll(/^data: (.*)$/gm)].map((match) => JSON.parse(match[1] as string));
      const errors = events.flatMap((event) => event.errors ?? []);
      return {
        status: response.status,
        text,
        data: events.map((event) => event.data),
        code: errors[0]?.extensions?.code,
      };
    }
  } else {
    response = await fetch(server.graphqlUrl, {
      method: "POST",
      headers: {
        ...headers,
        "content-type": "application/json",
        accept: "application/graphql-response+json, application/json",
      },
      body: JSON.stringify({ query: op.document, variables }),
    });
  }
  const text = await response.text();
  const body = JSON.parse(text);
  return { status: response.status, text, data: body.data, code: body.errors?.[0]?.extensions?.code };
}

/** What an attacker's attempts must leave untouched in the fixtures' workspace. */
async function workspaceState(): Promise<string> {
  const data = await owner.ok(`{
    changes(last: 1) { pageInfo { endCursor } }
    resources(type: "contact", first: 100) { nodes { id name version values } }
    resourceTypes { key name updatedAt fields { key name options required } }
    apiKeys { id revokedAt }
    members { id role }
    webhooks { id url status }
    oauthClients { id }
  }`);
  return JSON.stringify(data);
}

const fixtureIds = () =>
  Object.entries(fixtures)
    .filter(([key]) => key !== "headCursor")
    .map(([, id]) => id);

beforeAll(async () => {
  server = await startServer({ PLUGBOARD_WEBHOOK_ALLOW_PRIVATE: "true" });
  owner = api(server, server.owner.token);
  await owner.ok(`mutation {
    secret: createField(input: { resourceType: "contact", key: "secret", name: "Secret", type: TEXT }) { field { id } }
    attachments: createField(input: { resourceType: "contact", key: "attachments", name: "Attachments", type: FILE }) { field { id } }
  }`);
  await owner.ok(
    `mutation { setFieldAccess(input: { resourceType: "contact", field: "secret", role: VIEWER, access: NONE }) { field { key } } }`,
  );
  const member = await memberApi(server, owner, "MEMBER");
  viewer = await memberApi(server, owner, "VIEWER");
  const account = await createResource(owner, "account", { name: "Acme" });
  const uploaded = await fetch(`${server.url}/files`, {
    method: "POST",
    headers: { authorization: `Bearer ${owner.token}`, "content-type": "text/plain" },
    body: "attached",
  });
  const file = (await uploaded.json()) as { id: string };
  const contact = await createResource(owner, "contact", {
    name: "Ada",
    secret: SECRET,
    accounts: [account.id],
    attachments: [file.id],
  });
  const webhook = await owner.ok(
    `mutation { createWebhook(input: { url: "http://127.0.0.1:9/hook" }) { webhook { id } } }`,
  );
  const webhookId = webhook.createWebhook.webhook.id;
  const test = await owner.ok(`mutation($id: ID!) { testWebhook(input: { id: $id }) { delivery { id } } }`, {
    id: webhookId,
  });
  const key = async (scopes: string[] | null, memberId?: string) =>
    (
      await owner.ok(
        `mutation($scopes: [Scope!], $memberId: ID) { createApiKey(input: { name: "suite", scopes: $scopes, memberId: $memberId }) { token apiKey { id } } }`,
        { scopes, memberId: memberId ?? null },
      )
    ).createApiKey;
  const memberKey = await key(null, member.memberId);
  const revoked = await key(null);
  await owner.ok(`mutation($id: ID!) { revokeApiKey(input: { id: $id }) { apiKey { id } } }`, {
    id: revoked.apiKey.id,
  });
  revokedToken = revoked.token;
  readOnlyToken = (await key(["READ"])).token;
  readWriteToken = (await key(["READ", "WRITE"])).token;
  const client = await owner.ok(
    `mutation { createOAuthClient(input: { name: "Zapier", confidential: true, redirectUris: ["https://zapier.example/cb"] }) { oauthClient { id } } }`,
  );
  const head = await owner.ok(`{ changes(last: 1) { pageInfo { endCursor } } }`);
  fixtures = {
    contactId: contact.id,
    accountId: account.id,
    webhookId,
    deliveryId: test.testWebhook.delivery.id,
    fileId: file.id,
    apiKeyId: memberKey.apiKey.id,
    memberId: member.memberId,
    oauthClientId: client.createOAuthClient.oauthClient.id,
    headCursor: head.changes.pageInfo.endCursor,
  };
  stranger = await server.createTenant("Elsewhere");
  // Changes are numbered just after they commit: let the fixtures' settle before comparing states.
  for (let state = await workspaceState(), next = ""; next !== state; ) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    [state, next] = [next || state, await workspaceState()];
  }
}, 60_000);
afterAll(() => server?.close());

const entries = Object.entries(operations);

describe("the security suite covers every operation", () => {
  it("lists every query, mutation and subscription of the schema", () => {
    const schema = buildSchema(readFileSync(new URL("../../schema/schema.graphql", import.meta.url), "utf8"));
    const names = [
      ...Object.keys(schema.getQueryType()?.getFields() ?? {}),
      ...Object.keys(schema.getMutationType()?.getFields() ?? {}),
      ...Object.keys(schema.getSubscriptionType()?.getFields() ?? {}).map((name) => `subscription ${name}`),
    ];
    expect(Object.keys(operations).sort()).toEqual(names.sort());
  });
});

describe.each(entries)("%s", (name, op) => {
  it("is refused without a credential, and with a revoked one", async () => {
    for (const token of [null, revokedToken]) {
      const outcome = await run(name, op, token);
      expect(outcome.status, outcome.text).toBe(401);
      expect(outcome.code, outcome.text).toBe("UNAUTHENTICATED");
    }
  });

  it.skipIf(op.scope === "READ")(
    "is refused to a credential without its scope, writing nothing",
    async () => {
      const before = await workspaceState();
      const outcome = await run(name, op, op.scope === "ADMIN" ? readWriteToken : readOnlyToken);
      expect(outcome.code, outcome.text).toBe(op.refusedAs ?? "FORBIDDEN");
      expect(await workspaceState()).toBe(before);
    },
  );

  it("finds nothing of another workspace, and changes nothing there", async () => {
    const before = await workspaceState();
    const outcome = await run(name, op, stranger.token);
    const data = JSON.stringify(outcome.data ?? null);
    for (const id of fixtureIds()) expect(data, `${id} leaked: ${outcome.text}`).not.toContain(id);
    expect(data).not.toContain(SECRET);
    expect(await workspaceState()).toBe(before);
  });

  it.skipIf(op.kind === "mutation")("never shows a field hidden from the reader", async () => {
    const outcome = await run(name, op, viewer.token);
    expect(outcome.code, outcome.text).toBe(op.scope === "ADMIN" ? "FORBIDDEN" : undefined);
    expect(outcome.text).not.toContain(SECRET);
    expect(outcome.text).not.toMatch(/"secret"/);
  });
});

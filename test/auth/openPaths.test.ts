import { sql } from "drizzle-orm";
import * as oauth from "oauth4webapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, api, firstError } from "../helpers/api.ts";
import { gqlOk } from "../helpers/graphql.ts";
import { createClient, discover, insecure, type RegisteredClient } from "../helpers/oauth.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { memberWithKey, openSocket, subscribeSse, subscribeWs, until } from "../helpers/subscriptions.ts";

/**
 * Security issue 14, items 1–3: a credential is checked in its current state on every path that
 * stays open — each operation on a WebSocket, and every open subscription stream — whatever its
 * kind (API key, OAuth token, email/password); and nobody mints a credential above their own.
 */

let server: TestServer;
let owner: Api;
let as: oauth.AuthorizationServer;

beforeAll(async () => {
  server = await startServer();
  owner = api(server, server.owner.token);
  as = await discover(server);
});
afterAll(() => server?.close());

const CREATE_CONTACT = `mutation($name: String!) {
  createResource(input: { type: "contact", values: { name: $name } }) { resource { id } }
}`;

async function contactsNamed(name: string): Promise<number> {
  const data = await owner.ok(
    `query($name: JSON) { resources(type: "contact", where: { field: "name", eq: $name }) { totalCount } }`,
    { name },
  );
  return data.resources.totalCount;
}

async function createMember(role: string): Promise<{ id: string; email: string }> {
  const email = `${role.toLowerCase()}.${Math.random().toString(36).slice(2)}@example.com`;
  const data = await owner.ok(
    "mutation($email: String!, $role: Role!) { createMember(input: { email: $email, role: $role }) { member { id } } }",
    { email, role },
  );
  return { id: data.createMember.member.id, email };
}

describe("operations on an open WebSocket use the credential's current state", () => {
  it("a revoked API key closes the socket with 4403 at once and writes nothing more", async () => {
    const { keyId, token } = await memberWithKey(server.graphqlUrl, server.owner.token, "MEMBER");
    const socket = openSocket(server.wsUrl, { authorization: `Bearer ${token}` });
    const before = await socket.run(CREATE_CONTACT, { name: "Socket Before Revoke" });
    expect(before.errors).toBeUndefined();
    await owner.ok("mutation($id: ID!) { revokeApiKey(input: { id: $id }) { apiKey { id } } }", {
      id: keyId,
    });
    const after = await socket.run(CREATE_CONTACT, { name: "Socket After Revoke" }).catch((error) => error);
    expect(after.data?.createResource).toBeFalsy();
    await until(() => socket.closes.includes(4403), "the socket to close with 4403", 2_000);
    expect(await contactsNamed("Socket After Revoke")).toBe(0);
    await socket.dispose();
  });

  it("an ADMIN demoted to VIEWER can no longer manage members over an open socket", async () => {
    const { memberId, token } = await memberWithKey(server.graphqlUrl, server.owner.token, "ADMIN");
    const socket = openSocket(server.wsUrl, { authorization: `Bearer ${token}` });
    expect((await socket.run("{ members { id } }")).errors).toBeUndefined();
    await owner.ok(
      "mutation($id: ID!) { updateMemberRole(input: { memberId: $id, role: VIEWER }) { member { id } } }",
      { id: memberId },
    );
    const email = `escalated.${Math.random().toString(36).slice(2)}@example.com`;
    const result = await socket.run(
      "mutation($email: String!) { createMember(input: { email: $email, role: ADMIN }) { member { id } } }",
      { email },
    );
    expect((result.errors?.[0] as { extensions?: { code?: string } })?.extensions?.code).toBe("FORBIDDEN");
    const members = await owner.ok("{ members { email } }");
    expect(members.members.map((m: { email: string }) => m.email)).not.toContain(email);
    await socket.dispose();
  });

  it("a removed member's socket is closed with 4403", async () => {
    const { memberId, token } = await memberWithKey(server.graphqlUrl, server.owner.token, "ADMIN");
    const socket = openSocket(server.wsUrl, { authorization: `Bearer ${token}` });
    expect((await socket.run("{ members { id } }")).errors).toBeUndefined();
    await owner.ok("mutation($id: ID!) { removeMember(input: { memberId: $id }) { deletedId } }", {
      id: memberId,
    });
    await until(() => socket.closes.includes(4403), "the socket to close with 4403", 2_000);
    const after = await socket.run("{ members { id } }").catch((error) => error);
    expect(after.data?.members).toBeFalsy();
    await socket.dispose();
  });
});

describe("minting credentials", () => {
  it("an ADMIN cannot mint a key for an OWNER (or take over the workspace with one)", async () => {
    const admin = await memberWithKey(server.graphqlUrl, server.owner.token, "ADMIN");
    const adminApi = api(server, admin.token);
    const result = await adminApi.raw(
      `mutation($memberId: ID!) { createApiKey(input: { name: "takeover", memberId: $memberId }) { token } }`,
      { memberId: server.owner.memberId },
    );
    expect(firstError(result).code).toBe("FORBIDDEN");
    expect(result.data?.createApiKey ?? null).toBeNull();
    const keys = await owner.ok("{ apiKeys { name member { id } } }");
    expect(keys.apiKeys.map((k: { name: string }) => k.name)).not.toContain("takeover");
  });

  it("an ADMIN may still mint keys for admins and members, within its own scopes", async () => {
    const admin = await memberWithKey(server.graphqlUrl, server.owner.token, "ADMIN");
    const other = await memberWithKey(server.graphqlUrl, server.owner.token, "MEMBER");
    const adminApi = api(server, admin.token);
    await adminApi.ok(
      `mutation($memberId: ID!) { createApiKey(input: { name: "ok", memberId: $memberId }) { token } }`,
      { memberId: other.memberId },
    );
    const narrow = await adminApi.ok(
      `mutation { createApiKey(input: { name: "narrow", scopes: [READ, ADMIN] }) { token } }`,
    );
    const wider = await api(server, narrow.createApiKey.token).raw(
      `mutation($memberId: ID!) { createApiKey(input: { name: "wider", memberId: $memberId, scopes: [READ, WRITE] }) { token } }`,
      { memberId: other.memberId },
    );
    expect(firstError(wider).code).toBe("FORBIDDEN");
  });
});

describe("every kind of credential ends its open streams", () => {
  let client: RegisteredClient;
  beforeAll(async () => {
    client = await createClient(server, { confidential: true });
  });

  async function clientCredentialsToken(c: RegisteredClient): Promise<string> {
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      { client_id: c.clientId },
      oauth.ClientSecretBasic(c.clientSecret ?? ""),
      { scope: "read write" },
      insecure,
    );
    const tokens = await oauth.processClientCredentialsResponse(as, { client_id: c.clientId }, response);
    return tokens.access_token;
  }

  /** An SSE and a WebSocket stream of `token`, plus a socket for operations. */
  async function openStreams(token: string) {
    const sse = await subscribeSse(server.graphqlUrl, token);
    expect(sse.response.status).toBe(200);
    const ws = subscribeWs(server.wsUrl, token);
    const socket = openSocket(server.wsUrl, { authorization: `Bearer ${token}` });
    expect((await socket.run("{ viewer { member { id } } }")).errors).toBeUndefined();
    return { sse, ws, socket };
  }

  async function expectEnded(streams: Awaited<ReturnType<typeof openStreams>>, timeoutMs = 2_000) {
    await until(streams.sse.ended, "the SSE stream to end", timeoutMs);
    const sseErrors = streams.sse.events.flatMap((e) => e.data.errors ?? []);
    expect(sseErrors[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    await until(() => streams.ws.closes.includes(4403), "the WebSocket stream to close with 4403", timeoutMs);
    const attempt = await streams.socket
      .run(`mutation { createApiKey(input: { name: "after-revocation" }) { token } }`)
      .catch((error) => error);
    expect(attempt.data?.createApiKey).toBeFalsy();
    await streams.sse.close();
    await streams.ws.dispose();
    await streams.socket.dispose();
  }

  it("a revoked OAuth access token", async () => {
    const token = await clientCredentialsToken(client);
    const streams = await openStreams(token);
    const response = await oauth.revocationRequest(
      as,
      { client_id: client.clientId },
      oauth.ClientSecretBasic(client.clientSecret ?? ""),
      token,
      insecure,
    );
    await oauth.processRevocationResponse(response);
    await expectEnded(streams);
    const keys = await owner.ok("{ apiKeys { name } }");
    expect(keys.apiKeys.map((k: { name: string }) => k.name)).not.toContain("after-revocation");
  });

  it("a deleted OAuth client", async () => {
    const doomed = await createClient(server, { confidential: true, name: "Doomed" });
    const streams = await openStreams(await clientCredentialsToken(doomed));
    await owner.ok("mutation($id: ID!) { deleteOAuthClient(input: { id: $id }) { deletedId } }", {
      id: doomed.id,
    });
    await expectEnded(streams);
  });

  it("an OAuth access token reaching its expiry", async () => {
    const token = await clientCredentialsToken(client);
    const streams = await openStreams(token);
    // Tokens live an hour; bring this one's end forward as if the hour had passed.
    await server.database.db.execute(
      sql`update oauth_artifacts set expires_at = now() + interval '1 second',
            payload = jsonb_set(payload::jsonb, '{exp}', to_jsonb(extract(epoch from now())::int + 1))
          where model = 'ClientCredentials'`,
    );
    await expectEnded(streams, 8_000);
  });

  it("an API key reaching its expiresAt", async () => {
    const data = await owner.ok(
      `mutation($at: DateTime!) { createApiKey(input: { name: "short", expiresAt: $at }) { token } }`,
      { at: new Date(Date.now() + 2_500).toISOString() },
    );
    const streams = await openStreams(data.createApiKey.token);
    await expectEnded(streams, 3_500);
  });

  it("a changed password ends email/password streams", async () => {
    const member = await createMember("MEMBER");
    const key = await owner.ok(
      `mutation($id: ID!) { createApiKey(input: { name: "pw", memberId: $id }) { token } }`,
      { id: member.id },
    );
    const memberApi = api(server, key.createApiKey.token);
    await memberApi.ok(`mutation { setPassword(input: { password: "first password 1" }) { member { id } } }`);
    const basic = `Basic ${Buffer.from(`${member.email}:first password 1`).toString("base64")}`;
    const sse = await subscribeSse(server.graphqlUrl, null, {}, basic);
    expect(sse.response.status).toBe(200);
    const socket = openSocket(server.wsUrl, { authorization: basic });
    expect((await socket.run("{ viewer { member { id } } }")).errors).toBeUndefined();
    const ws = openSocket(server.wsUrl, { authorization: basic });
    const wsStream = ws.run("subscription { changes { id } }").catch((error) => error);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await memberApi.ok(
      `mutation { setPassword(input: { password: "second password 2", currentPassword: "first password 1" }) { member { id } } }`,
    );
    await until(sse.ended, "the SSE stream to end", 2_000);
    await until(() => ws.closes.includes(4403), "the WebSocket stream to close with 4403", 2_000);
    await wsStream;
    const after = await socket.run("{ viewer { member { id } } }").catch((error) => error);
    expect(after.data?.viewer).toBeFalsy();
    await sse.close();
    await socket.dispose();
    await ws.dispose();
  });

  it("API keys still end streams at once (regression)", async () => {
    const { keyId, token } = await memberWithKey(server.graphqlUrl, server.owner.token, "MEMBER");
    const streams = await openStreams(token);
    await gqlOk(
      server.graphqlUrl,
      "mutation ($id: ID!) { revokeApiKey(input: { id: $id }) { apiKey { id } } }",
      { id: keyId },
      { token: server.owner.token },
    );
    await expectEnded(streams, 1_000);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorCode, gql, gqlOk } from "../helpers/graphql.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

const VIEWER = "{ viewer { member { id role } workspace { id name } scopes } }";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

async function viewerWith(init: { headers?: Record<string, string>; query?: string }) {
  const url = new URL(server.graphqlUrl);
  if (init.query) url.search = init.query;
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...init.headers },
    body: JSON.stringify({ query: VIEWER }),
  });
  return {
    response,
    body: (await response.json()) as {
      data?: { viewer: { member: { id: string } } };
      errors?: { extensions: { code: string } }[];
    },
  };
}

describe("credential forms (docs/authentication.md)", () => {
  it("accepts Bearer, Basic with the key as username, X-API-Key and access_token", async () => {
    const token = server.owner.token;
    const forms: { headers?: Record<string, string>; query?: string }[] = [
      { headers: { authorization: `Bearer ${token}` } },
      { headers: { authorization: `Basic ${Buffer.from(`${token}:`).toString("base64")}` } },
      { headers: { "x-api-key": token } },
      { query: `access_token=${encodeURIComponent(token)}` },
    ];
    for (const form of forms) {
      const { response, body } = await viewerWith(form);
      expect(response.status, JSON.stringify(form)).toBe(200);
      expect(body.data?.viewer.member.id).toBe(server.owner.memberId);
    }
  });

  it("answers a missing credential with 401, WWW-Authenticate and UNAUTHENTICATED", async () => {
    const { response, body } = await viewerWith({});
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe('Bearer realm="plugboard"');
    expect(body.errors?.[0]?.extensions.code).toBe("UNAUTHENTICATED");
    expect(body.data ?? null).toBeNull();
  });

  it("answers garbage, malformed and unknown-scheme credentials with 401 invalid_token", async () => {
    const badHeaders: Record<string, string>[] = [
      { authorization: "Bearer pbk_not_a_real_key" },
      { authorization: "Bearer" },
      { authorization: "Digest abc" },
      { authorization: "Basic !!!notbase64" },
      { "x-api-key": "garbage" },
    ];
    for (const headers of badHeaders) {
      const { response, body } = await viewerWith({ headers });
      expect(response.status, JSON.stringify(headers)).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe(
        'Bearer realm="plugboard", error="invalid_token"',
      );
      expect(body.errors?.[0]?.extensions.code).toBe("UNAUTHENTICATED");
    }
  });

  it("lets introspection-only operations through without a credential", async () => {
    const result = await gql(server.graphqlUrl, "{ __typename __schema { queryType { name } } }");
    expect(result.status).toBe(200);
    expect(result.data).toEqual({ __typename: "Query", __schema: { queryType: { name: "Query" } } });
    const mixed = await gql(server.graphqlUrl, "{ __typename viewer { scopes } }");
    expect(mixed.status).toBe(401);
  });

  it("refuses revoked and expired keys", async () => {
    const created = await gqlOk<{ createApiKey: { apiKey: { id: string }; token: string } }>(
      server.graphqlUrl,
      `mutation { createApiKey(input: { name: "short-lived" }) { apiKey { id } token } }`,
      {},
      { token: server.owner.token },
    );
    const key = created.createApiKey;
    expect((await gql(server.graphqlUrl, VIEWER, {}, { token: key.token })).status).toBe(200);
    await gqlOk(
      server.graphqlUrl,
      `mutation($id: ID!) { revokeApiKey(input: { id: $id }) { apiKey { revokedAt } } }`,
      { id: key.apiKey.id },
      { token: server.owner.token },
    );
    const revoked = await gql(server.graphqlUrl, VIEWER, {}, { token: key.token });
    expect(revoked.status).toBe(401);
    expect(errorCode(revoked)).toBe("UNAUTHENTICATED");

    const soon = new Date(Date.now() + 1500).toISOString();
    const expiring = await gqlOk<{ createApiKey: { token: string } }>(
      server.graphqlUrl,
      `mutation($at: DateTime) { createApiKey(input: { name: "expiring", expiresAt: $at }) { token } }`,
      { at: soon },
      { token: server.owner.token },
    );
    expect((await gql(server.graphqlUrl, VIEWER, {}, { token: expiring.createApiKey.token })).status).toBe(
      200,
    );
    await new Promise((resolve) => setTimeout(resolve, 1600));
    expect((await gql(server.graphqlUrl, VIEWER, {}, { token: expiring.createApiKey.token })).status).toBe(
      401,
    );
  });

  it("resolves each tenant's key to its own workspace only", async () => {
    const tenant = await server.createTenant("Other");
    const data = await gqlOk<{ viewer: { workspace: { id: string; name: string } } }>(
      server.graphqlUrl,
      VIEWER,
      {},
      { token: tenant.token },
    );
    expect(data.viewer.workspace).toEqual({ id: tenant.workspaceId, name: "Other" });
    // The other workspace's member id is as unknown as one that never existed.
    const remove = await gql(
      server.graphqlUrl,
      `mutation($id: ID!) { removeMember(input: { memberId: $id }) { deletedId } }`,
      { id: server.owner.memberId },
      { token: tenant.token },
    );
    expect(errorCode(remove)).toBe("NOT_FOUND");
    const node = await gqlOk<{ node: unknown }>(
      server.graphqlUrl,
      `query($id: ID!) { node(id: $id) { id } }`,
      { id: server.owner.memberId },
      { token: tenant.token },
    );
    expect(node.node).toBeNull();
  });
});

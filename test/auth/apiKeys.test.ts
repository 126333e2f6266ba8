import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/kernel/db.ts";
import { errorCode, gql, gqlOk } from "../helpers/graphql.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

const CREATE_KEY = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { id name prefix scopes member { id } lastUsedAt revokedAt } token } }`;

type Created = {
  createApiKey: {
    apiKey: { id: string; prefix: string; scopes: string[]; lastUsedAt: string | null };
    token: string;
  };
};

describe("API keys", () => {
  it("shows a pbk_ token once and stores only its hash", async () => {
    const { createApiKey } = await gqlOk<Created>(
      server.graphqlUrl,
      CREATE_KEY,
      { input: { name: "zapier" } },
      { token: server.owner.token },
    );
    expect(createApiKey.token).toMatch(/^pbk_[A-Za-z0-9_-]{43}$/);
    expect(createApiKey.token.startsWith(createApiKey.apiKey.prefix)).toBe(true);
    expect(createApiKey.apiKey.scopes).toEqual(["READ", "WRITE", "ADMIN"]);
    const rows = await queryRows<Record<string, unknown>>(
      server.database.db,
      sql`select * from api_keys where id = ${createApiKey.apiKey.id}`,
    );
    expect(JSON.stringify(rows)).not.toContain(createApiKey.token);
    const list = await gqlOk<{ apiKeys: Record<string, unknown>[] }>(
      server.graphqlUrl,
      "{ apiKeys { id name prefix } }",
      {},
      { token: server.owner.token },
    );
    expect(JSON.stringify(list)).not.toContain(createApiKey.token);
    expect(list.apiKeys.map((k) => k.id)).toContain(createApiKey.apiKey.id);
  });

  it("records last use", async () => {
    const { createApiKey } = await gqlOk<Created>(
      server.graphqlUrl,
      CREATE_KEY,
      { input: { name: "used" } },
      { token: server.owner.token },
    );
    expect(createApiKey.apiKey.lastUsedAt).toBeNull();
    await gqlOk(server.graphqlUrl, "{ viewer { scopes } }", {}, { token: createApiKey.token });
    await expect
      .poll(async () => {
        const data = await gqlOk<{ apiKeys: { id: string; lastUsedAt: string | null }[] }>(
          server.graphqlUrl,
          "{ apiKeys { id lastUsedAt } }",
          {},
          { token: server.owner.token },
        );
        return data.apiKeys.find((k) => k.id === createApiKey.apiKey.id)?.lastUsedAt ?? null;
      })
      .not.toBeNull();
  });

  it("narrows by scope: a READ key reads but cannot write, nor mint wider keys", async () => {
    const { createApiKey } = await gqlOk<Created>(
      server.graphqlUrl,
      CREATE_KEY,
      { input: { name: "read-only", scopes: ["READ"] } },
      { token: server.owner.token },
    );
    const readOnly = createApiKey.token;
    const viewer = await gqlOk<{ viewer: { scopes: string[] } }>(
      server.graphqlUrl,
      "{ viewer { scopes } }",
      {},
      { token: readOnly },
    );
    expect(viewer.viewer.scopes).toEqual(["READ"]);
    const write = await gql(
      server.graphqlUrl,
      `mutation { createMember(input: { email: "x@example.com", role: MEMBER }) { member { id } } }`,
      {},
      { token: readOnly },
    );
    expect(errorCode(write)).toBe("FORBIDDEN");
    const wider = await gql(
      server.graphqlUrl,
      CREATE_KEY,
      { input: { name: "escalate", scopes: ["WRITE"] } },
      { token: readOnly },
    );
    expect(errorCode(wider)).toBe("FORBIDDEN");
  });

  it("lets owners issue keys for other members within that member's role, and refuses others", async () => {
    const { createMember } = await gqlOk<{ createMember: { member: { id: string } } }>(
      server.graphqlUrl,
      `mutation { createMember(input: { email: "svc@example.com", name: "Service", role: VIEWER }) { member { id } } }`,
      {},
      { token: server.owner.token },
    );
    const tooWide = await gql(
      server.graphqlUrl,
      CREATE_KEY,
      { input: { name: "svc", memberId: createMember.member.id, scopes: ["READ", "WRITE"] } },
      { token: server.owner.token },
    );
    expect(errorCode(tooWide)).toBe("FORBIDDEN");
    const { createApiKey } = await gqlOk<Created>(
      server.graphqlUrl,
      CREATE_KEY,
      { input: { name: "svc", memberId: createMember.member.id } },
      { token: server.owner.token },
    );
    expect(createApiKey.apiKey.scopes).toEqual(["READ"]);
    // The viewer may not issue keys for someone else.
    const byViewer = await gql(
      server.graphqlUrl,
      CREATE_KEY,
      { input: { name: "x", memberId: server.owner.memberId } },
      { token: createApiKey.token },
    );
    expect(errorCode(byViewer)).toBe("FORBIDDEN");
    // Another workspace's member id is a bad value, exactly like one that never existed.
    const tenant = await server.createTenant();
    for (const memberId of [tenant.memberId, "mem_doesnotexist"]) {
      const foreign = await gql(
        server.graphqlUrl,
        CREATE_KEY,
        { input: { name: "x", memberId } },
        { token: server.owner.token },
      );
      expect(errorCode(foreign)).toBe("BAD_USER_INPUT");
      expect(foreign.errors?.[0]?.extensions?.field).toBe("memberId");
    }
  });

  it("rejects a past expiry and an empty name", async () => {
    const past = await gql(
      server.graphqlUrl,
      CREATE_KEY,
      { input: { name: "old", expiresAt: "2020-01-01T00:00:00.000Z" } },
      { token: server.owner.token },
    );
    expect(past.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "expiresAt" });
    const empty = await gql(
      server.graphqlUrl,
      CREATE_KEY,
      { input: { name: "  " } },
      { token: server.owner.token },
    );
    expect(empty.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "name" });
  });

  it("hides other members' keys from non-admins and refuses revoking them", async () => {
    const { createMember } = await gqlOk<{ createMember: { member: { id: string } } }>(
      server.graphqlUrl,
      `mutation { createMember(input: { email: "m@example.com", role: MEMBER }) { member { id } } }`,
      {},
      { token: server.owner.token },
    );
    const { createApiKey } = await gqlOk<Created>(
      server.graphqlUrl,
      CREATE_KEY,
      { input: { name: "m", memberId: createMember.member.id } },
      { token: server.owner.token },
    );
    const list = await gqlOk<{ apiKeys: { member: { id: string } }[] }>(
      server.graphqlUrl,
      "{ apiKeys { member { id } } }",
      {},
      { token: createApiKey.token },
    );
    expect(list.apiKeys.every((k) => k.member.id === createMember.member.id)).toBe(true);
    const ownerKeys = await gqlOk<{ apiKeys: { id: string; member: { id: string } }[] }>(
      server.graphqlUrl,
      "{ apiKeys { id member { id } } }",
      {},
      { token: server.owner.token },
    );
    const ownersKey = ownerKeys.apiKeys.find((k) => k.member.id === server.owner.memberId);
    const revoke = await gql(
      server.graphqlUrl,
      `mutation($id: ID!) { revokeApiKey(input: { id: $id }) { apiKey { id } } }`,
      { id: ownersKey?.id },
      { token: createApiKey.token },
    );
    expect(errorCode(revoke)).toBe("NOT_FOUND");
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorCode, gql, gqlOk } from "../helpers/graphql.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

const PASSWORD = "bootstrap password 1";
const VIEWER = "{ viewer { member { id } workspace { id } scopes } }";

let server: TestServer;
beforeAll(async () => {
  // The verification cache is off here so every request runs argon2 (timing and password changes).
  server = await startServer({ PLUGBOARD_ADMIN_PASSWORD: PASSWORD, PLUGBOARD_PASSWORD_CACHE_SECONDS: "0" });
});
afterAll(() => server?.close());

function basic(email: string, password: string) {
  return { authorization: `Basic ${Buffer.from(`${email}:${password}`).toString("base64")}` };
}

async function viewerWith(headers: Record<string, string>) {
  return gql<{ viewer: { member: { id: string }; workspace: { id: string }; scopes: string[] } }>(
    server.graphqlUrl,
    VIEWER,
    {},
    { headers },
  );
}

describe("Basic email/password", () => {
  it("signs in the bootstrap owner with PLUGBOARD_ADMIN_PASSWORD, with every scope of the role", async () => {
    const result = await viewerWith(basic("OWNER@example.com", PASSWORD));
    expect(result.status).toBe(200);
    expect(result.data?.viewer.member.id).toBe(server.owner.memberId);
    expect(result.data?.viewer.scopes).toEqual(["READ", "WRITE", "ADMIN"]);
  });

  it("answers a wrong password and an unknown email alike: 401 invalid_token, in similar time", async () => {
    const timings = { wrong: [] as number[], unknown: [] as number[] };
    for (let i = 0; i < 7; i++) {
      for (const [kind, email] of [
        ["wrong", "owner@example.com"],
        ["unknown", `nobody${i}@example.com`],
      ] as const) {
        const started = performance.now();
        const result = await viewerWith(basic(email, "not the password"));
        timings[kind].push(performance.now() - started);
        expect(result.status).toBe(401);
        expect(result.headers.get("www-authenticate")).toBe(
          'Bearer realm="plugboard", error="invalid_token"',
        );
        expect(errorCode(result)).toBe("UNAUTHENTICATED");
      }
    }
    // Both run one argon2id verification (~20 ms); an early answer would take ~1 ms, a ratio
    // under 0.1. The fastest of interleaved tries resists a loaded machine; speed is in bench/.
    const ratio = Math.min(...timings.unknown) / Math.min(...timings.wrong);
    expect(ratio).toBeGreaterThan(0.25);
    expect(ratio).toBeLessThan(4);
  });

  it("lets the password pick the workspace when an email is in several, and refuses ambiguity", async () => {
    const tenant = await server.createTenant();
    const created = await gqlOk<{ createMember: { member: { id: string } } }>(
      server.graphqlUrl,
      `mutation { createMember(input: { email: "owner@example.com", role: VIEWER }) { member { id } } }`,
      {},
      { token: tenant.token },
    );
    const key = await gqlOk<{ createApiKey: { token: string } }>(
      server.graphqlUrl,
      `mutation($id: ID!) { createApiKey(input: { name: "k", memberId: $id }) { token } }`,
      { id: created.createMember.member.id },
      { token: tenant.token },
    );
    const setPassword = (password: string, currentPassword?: string) =>
      gql(
        server.graphqlUrl,
        `mutation($input: SetPasswordInput!) { setPassword(input: $input) { member { id } } }`,
        { input: { password, currentPassword } },
        { token: key.createApiKey.token },
      );
    expect((await setPassword("tenant password")).status).toBe(200);
    const inTenant = await viewerWith(basic("owner@example.com", "tenant password"));
    expect(inTenant.data?.viewer.workspace.id).toBe(tenant.workspaceId);
    expect(inTenant.data?.viewer.scopes).toEqual(["READ"]);
    const inDefault = await viewerWith(basic("owner@example.com", PASSWORD));
    expect(inDefault.data?.viewer.workspace.id).toBe(server.owner.workspaceId);

    // The same password in both workspaces cannot say which one is meant.
    expect((await setPassword(PASSWORD, "tenant password")).status).toBe(200);
    const ambiguous = await viewerWith(basic("owner@example.com", PASSWORD));
    expect(ambiguous.status).toBe(401);
    expect(ambiguous.errors?.[0]?.message).toMatch(/several workspaces/);
    expect((await setPassword("tenant password", PASSWORD)).status).toBe(200);
  });
});

describe("setPassword", () => {
  const mutation = `mutation($input: SetPasswordInput!) { setPassword(input: $input) { member { id } } }`;

  it("changes one's own password only with the current one, and checks the new one", async () => {
    const token = server.owner.token;
    const tooShort = await gql(server.graphqlUrl, mutation, { input: { password: "short" } }, { token });
    expect(errorCode(tooShort)).toBe("BAD_USER_INPUT");
    expect(tooShort.errors?.[0]?.extensions?.field).toBe("password");
    const noCurrent = await gql(
      server.graphqlUrl,
      mutation,
      { input: { password: "a new password" } },
      { token },
    );
    expect(errorCode(noCurrent)).toBe("BAD_USER_INPUT");
    expect(noCurrent.errors?.[0]?.extensions?.field).toBe("currentPassword");

    const changed = await gqlOk<{ setPassword: { member: { id: string } } }>(
      server.graphqlUrl,
      mutation,
      { input: { password: "a new password", currentPassword: PASSWORD } },
      { token },
    );
    expect(changed.setPassword.member.id).toBe(server.owner.memberId);
    expect((await viewerWith(basic("owner@example.com", PASSWORD))).status).toBe(401);
    expect((await viewerWith(basic("owner@example.com", "a new password"))).status).toBe(200);
  });

  it("does not let a narrowed key set a password", async () => {
    const member = await gqlOk<{ createMember: { member: { id: string } } }>(
      server.graphqlUrl,
      `mutation { createMember(input: { email: "narrow@example.com", role: MEMBER }) { member { id } } }`,
      {},
      { token: server.owner.token },
    );
    const key = await gqlOk<{ createApiKey: { token: string } }>(
      server.graphqlUrl,
      `mutation($id: ID!) { createApiKey(input: { name: "rw-less", memberId: $id, scopes: [READ, WRITE] }) { token } }`,
      { id: member.createMember.member.id },
      { token: server.owner.token },
    );
    // READ+WRITE is everything a MEMBER may have, so this key may set the first password…
    const ok = await gql(
      server.graphqlUrl,
      mutation,
      { input: { password: "member password" } },
      {
        token: key.createApiKey.token,
      },
    );
    expect(ok.status).toBe(200);
    // …but a key without every scope of its role may not (it would mint a wider credential).
    const ownerReadWrite = await gqlOk<{ createApiKey: { token: string } }>(
      server.graphqlUrl,
      `mutation { createApiKey(input: { name: "owner rw", scopes: [READ, WRITE] }) { token } }`,
      {},
      { token: server.owner.token },
    );
    const tenant = await server.createTenant();
    const fresh = await gqlOk<{ createApiKey: { token: string } }>(
      server.graphqlUrl,
      `mutation { createApiKey(input: { name: "tenant rw", scopes: [READ, WRITE] }) { token } }`,
      {},
      { token: tenant.token },
    );
    const refused = await gql(
      server.graphqlUrl,
      mutation,
      { input: { password: "tenant owner pw" } },
      {
        token: fresh.createApiKey.token,
      },
    );
    expect(errorCode(refused)).toBe("FORBIDDEN");
    expect(ownerReadWrite.createApiKey.token).toBeTruthy();
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorCode, gql, gqlOk } from "../helpers/graphql.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

const CREATE_MEMBER = `mutation($input: CreateMemberInput!) { createMember(input: $input) { member { id email name role createdAt } } }`;
const CREATE_KEY = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { id scopes member { id } } token } }`;
const MEMBERS = "{ members { id email role } }";

async function memberWithKey(role: string, email: string) {
  const { createMember } = await gqlOk<{ createMember: { member: { id: string } } }>(
    server.graphqlUrl,
    CREATE_MEMBER,
    { input: { email, name: email.split("@")[0], role } },
    { token: server.owner.token },
  );
  const { createApiKey } = await gqlOk<{ createApiKey: { token: string } }>(
    server.graphqlUrl,
    CREATE_KEY,
    { input: { name: `${role} key`, memberId: createMember.member.id } },
    { token: server.owner.token },
  );
  return { id: createMember.member.id, token: createApiKey.token };
}

describe("members", () => {
  it("creates, lists, changes the role of and removes a member", async () => {
    const { createMember } = await gqlOk<{
      createMember: { member: { id: string; role: string; createdAt: string } };
    }>(
      server.graphqlUrl,
      CREATE_MEMBER,
      { input: { email: "ada@example.com", name: "Ada", role: "MEMBER" } },
      { token: server.owner.token },
    );
    expect(createMember.member.role).toBe("MEMBER");
    expect(createMember.member.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const updated = await gqlOk<{ updateMemberRole: { member: { role: string } } }>(
      server.graphqlUrl,
      `mutation($id: ID!) { updateMemberRole(input: { memberId: $id, role: ADMIN }) { member { role } } }`,
      { id: createMember.member.id },
      { token: server.owner.token },
    );
    expect(updated.updateMemberRole.member.role).toBe("ADMIN");
    const removed = await gqlOk<{ removeMember: { deletedId: string } }>(
      server.graphqlUrl,
      `mutation($id: ID!) { removeMember(input: { memberId: $id }) { deletedId } }`,
      { id: createMember.member.id },
      { token: server.owner.token },
    );
    expect(removed.removeMember.deletedId).toBe(createMember.member.id);
    const list = await gqlOk<{ members: { id: string }[] }>(
      server.graphqlUrl,
      MEMBERS,
      {},
      { token: server.owner.token },
    );
    expect(list.members.map((m) => m.id)).not.toContain(createMember.member.id);
  });

  it("stops a removed member's keys at once", async () => {
    const member = await memberWithKey("MEMBER", "leaver@example.com");
    expect((await gql(server.graphqlUrl, "{ viewer { scopes } }", {}, { token: member.token })).status).toBe(
      200,
    );
    await gqlOk(
      server.graphqlUrl,
      `mutation($id: ID!) { removeMember(input: { memberId: $id }) { deletedId } }`,
      { id: member.id },
      { token: server.owner.token },
    );
    const after = await gql(server.graphqlUrl, "{ viewer { scopes } }", {}, { token: member.token });
    expect(after.status).toBe(401);
  });

  it("refuses a VIEWER managing members, and changes nothing", async () => {
    const viewer = await memberWithKey("VIEWER", "viewer@example.com");
    const before = await gqlOk<{ members: unknown[] }>(
      server.graphqlUrl,
      MEMBERS,
      {},
      { token: server.owner.token },
    );
    const attempt = await gql(
      server.graphqlUrl,
      CREATE_MEMBER,
      { input: { email: "intruder@example.com", role: "OWNER" } },
      { token: viewer.token },
    );
    expect(attempt.status).toBe(200);
    expect(errorCode(attempt)).toBe("FORBIDDEN");
    const promote = await gql(
      server.graphqlUrl,
      `mutation($id: ID!) { updateMemberRole(input: { memberId: $id, role: OWNER }) { member { role } } }`,
      { id: viewer.id },
      { token: viewer.token },
    );
    expect(errorCode(promote)).toBe("FORBIDDEN");
    const after = await gqlOk<{ members: unknown[] }>(
      server.graphqlUrl,
      MEMBERS,
      {},
      { token: server.owner.token },
    );
    expect(after.members).toEqual(before.members);
  });

  it("rejects bad input with BAD_USER_INPUT naming the field", async () => {
    const bad = await gql(
      server.graphqlUrl,
      CREATE_MEMBER,
      { input: { email: "not-an-email", role: "MEMBER" } },
      { token: server.owner.token },
    );
    expect(errorCode(bad)).toBe("BAD_USER_INPUT");
    expect(bad.errors?.[0]?.extensions?.field).toBe("email");
    const badRole = await gql(
      server.graphqlUrl,
      CREATE_MEMBER,
      { input: { email: "x@example.com", role: "EMPEROR" } },
      { token: server.owner.token },
    );
    expect(errorCode(badRole)).toBe("BAD_USER_INPUT");
    const duplicate = await gql(
      server.graphqlUrl,
      CREATE_MEMBER,
      { input: { email: "OWNER@example.com", role: "MEMBER" } },
      { token: server.owner.token },
    );
    expect(errorCode(duplicate)).toBe("CONFLICT");
  });

  it("keeps the last owner, and lets only owners touch owners", async () => {
    const lastOwner = await gql(
      server.graphqlUrl,
      `mutation($id: ID!) { updateMemberRole(input: { memberId: $id, role: MEMBER }) { member { role } } }`,
      { id: server.owner.memberId },
      { token: server.owner.token },
    );
    expect(errorCode(lastOwner)).toBe("BAD_USER_INPUT");
    const admin = await memberWithKey("ADMIN", "admin2@example.com");
    const adminRemovesOwner = await gql(
      server.graphqlUrl,
      `mutation($id: ID!) { removeMember(input: { memberId: $id }) { deletedId } }`,
      { id: server.owner.memberId },
      { token: admin.token },
    );
    expect(errorCode(adminRemovesOwner)).toBe("FORBIDDEN");
  });
});

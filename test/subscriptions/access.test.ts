import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gqlOk } from "../helpers/graphql.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { createContact, memberWithKey, subscribeWs, until, updateContact } from "../helpers/subscriptions.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

describe("Subscription.changes access", () => {
  it("refuses a connection without a credential (4401) or with a bad one (4403)", async () => {
    const anonymous = subscribeWs(server.wsUrl, null);
    await until(anonymous.completed, "the anonymous subscription to fail");
    expect(anonymous.closes).toContain(4401);
    expect(anonymous.received).toEqual([]);
    const bad = subscribeWs(server.wsUrl, "pbk_not_a_real_key");
    await until(bad.completed, "the bad-token subscription to fail");
    expect(bad.closes).toContain(4403);
  });

  it("closes open subscriptions with 4403 when their key is revoked", async () => {
    const { keyId, token } = await memberWithKey(server.graphqlUrl, server.owner.token, "MEMBER");
    const subscription = subscribeWs(server.wsUrl, token);
    await settle();
    await createContact(server.graphqlUrl, server.owner.token, "Seen Before Revocation");
    await subscription.waitFor(1);
    await gqlOk(
      server.graphqlUrl,
      "mutation ($id: ID!) { revokeApiKey(input: { id: $id }) { apiKey { revokedAt } } }",
      { id: keyId },
      { token: server.owner.token },
    );
    await until(subscription.completed, "the revoked subscription to close", 3_000);
    expect(subscription.closes).toContain(4403);
    await createContact(server.graphqlUrl, server.owner.token, "After Revocation");
    await settle();
    expect(subscription.received).toHaveLength(1);
  });

  it("closes a removed member's subscriptions", async () => {
    const { memberId, token } = await memberWithKey(server.graphqlUrl, server.owner.token, "MEMBER");
    const subscription = subscribeWs(server.wsUrl, token);
    await settle();
    await gqlOk(
      server.graphqlUrl,
      "mutation ($memberId: ID!) { removeMember(input: { memberId: $memberId }) { deletedId } }",
      { memberId },
      { token: server.owner.token },
    );
    await until(subscription.completed, "the removed member's subscription to close", 3_000);
    expect(subscription.closes).toContain(4403);
  });

  it("never shows a field hidden from the subscriber's role", async () => {
    await gqlOk(
      server.graphqlUrl,
      `mutation { setFieldAccess(input: { resourceType: "contact", field: "email", role: VIEWER, access: NONE }) { field { key } } }`,
      {},
      { token: server.owner.token },
    );
    const viewer = await memberWithKey(server.graphqlUrl, server.owner.token, "VIEWER");
    const subscription = subscribeWs(server.wsUrl, viewer.token);
    const owners = subscribeWs(server.wsUrl, server.owner.token);
    await settle();
    const id = await createContact(server.graphqlUrl, server.owner.token, "Hidden Email");
    await updateContact(server.graphqlUrl, server.owner.token, id, { email: "changed@example.com" });
    await updateContact(server.graphqlUrl, server.owner.token, id, { title: "Visible" });
    await owners.waitFor(3);
    const received = await subscription.waitFor(2);
    await settle();
    // The email-only update is left out; the others come without the email anywhere.
    expect(received.map((c) => c.kind)).toEqual(["CREATED", "UPDATED"]);
    expect(JSON.stringify(received)).not.toContain("@example.com");
    for (const change of received) {
      expect(change.fields.map((f) => f.key)).not.toContain("email");
      expect(change.snapshot).not.toHaveProperty("email");
    }
    expect(owners.received[0]?.snapshot).toHaveProperty("email");
    await Promise.all([subscription.dispose(), owners.dispose()]);
  });

  it("applies a member's role change to their open subscription", async () => {
    // Viewers cannot read contact emails (set by the test above); members can.
    const member = await memberWithKey(server.graphqlUrl, server.owner.token, "MEMBER");
    const subscription = subscribeWs(server.wsUrl, member.token);
    await settle();
    await createContact(server.graphqlUrl, server.owner.token, "Email Visible");
    await subscription.waitFor(1);
    expect(subscription.received[0]?.snapshot).toHaveProperty("email");
    await gqlOk(
      server.graphqlUrl,
      "mutation ($id: ID!) { updateMemberRole(input: { memberId: $id, role: VIEWER }) { member { role } } }",
      { id: member.memberId },
      { token: server.owner.token },
    );
    await settle();
    await createContact(server.graphqlUrl, server.owner.token, "Email Hidden");
    await subscription.waitFor(2);
    expect(subscription.received[1]?.snapshot).not.toHaveProperty("email");
    expect(subscription.received[1]?.fields.map((f) => f.key)).not.toContain("email");
    await subscription.dispose();
  });

  it("stops sending a type's changes when the role loses read access to it", async () => {
    const member = await memberWithKey(server.graphqlUrl, server.owner.token, "MEMBER");
    const subscription = subscribeWs(server.wsUrl, member.token);
    await settle();
    await createContact(server.graphqlUrl, server.owner.token, "Readable");
    await subscription.waitFor(1);
    await gqlOk(
      server.graphqlUrl,
      `mutation { setTypeAccess(input: { resourceType: "contact", role: MEMBER, access: NONE }) { resourceType { key } } }`,
      {},
      { token: server.owner.token },
    );
    await createContact(server.graphqlUrl, server.owner.token, "No Longer Readable");
    await gqlOk(
      server.graphqlUrl,
      `mutation { createResource(input: { type: "account", values: { name: "Still Readable" } }) { resource { id } } }`,
      {},
      { token: server.owner.token },
    );
    await subscription.waitFor(2);
    await settle();
    expect(subscription.received.map((c) => c.resourceType)).toEqual(["contact", "account"]);
    await subscription.dispose();
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorCode, gql, gqlOk } from "../helpers/graphql.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { createContact, createWebhook, eventually, UPDATE_RESOURCE, webhookView } from "./ops.ts";
import { receiverPool, sleep } from "./receiver.ts";

let server: TestServer;
const { receiver, closeAll: closeReceivers } = receiverPool();
beforeAll(async () => {
  server = await startServer({
    PLUGBOARD_WEBHOOK_ALLOW_PRIVATE: "true",
    PLUGBOARD_WEBHOOK_RETRY_SCHEDULE: "1,1",
  });
});
afterAll(async () => {
  await server?.close();
  await closeReceivers();
});

async function memberWithKey(role: string, email: string) {
  const owner = { token: server.owner.token };
  const { createMember } = await gqlOk<{ createMember: { member: { id: string } } }>(
    server.graphqlUrl,
    `mutation($input: CreateMemberInput!) { createMember(input: $input) { member { id } } }`,
    { input: { email, role } },
    owner,
  );
  const { createApiKey } = await gqlOk<{ createApiKey: { token: string } }>(
    server.graphqlUrl,
    `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { token } }`,
    { input: { name: `${email} key`, memberId: createMember.member.id } },
    owner,
  );
  return { id: createMember.member.id, token: createApiKey.token };
}

const SET_TYPE_ACCESS = `mutation($input: SetTypeAccessInput!) { setTypeAccess(input: $input) { resourceType { key } } }`;
const SET_FIELD_ACCESS = `mutation($input: SetFieldAccessInput!) { setFieldAccess(input: $input) { field { key } } }`;

describe("a webhook sees what its creator can read", () => {
  it("skips types the creator cannot read, hides hidden fields, and never crosses workspaces", async () => {
    const owner = server.owner.token;
    const member = await memberWithKey("MEMBER", "scoped@example.com");
    await gqlOk(
      server.graphqlUrl,
      SET_TYPE_ACCESS,
      { input: { resourceType: "account", role: "MEMBER", access: "NONE" } },
      { token: owner },
    );
    await gqlOk(
      server.graphqlUrl,
      SET_FIELD_ACCESS,
      { input: { resourceType: "contact", field: "phone", role: "MEMBER", access: "NONE" } },
      { token: owner },
    );
    const r = await receiver();
    const hook = await createWebhook(server.graphqlUrl, member.token, { url: r.url });
    r.secrets = [hook.secret];

    // A type the member cannot read is not even a valid filter for them.
    const refused = await gql(
      server.graphqlUrl,
      `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { secret } }`,
      { input: { url: r.url, filter: { types: ["account"] } } },
      { token: member.token },
    );
    expect(errorCode(refused)).toBe("BAD_USER_INPUT");
    expect(refused.errors?.[0]?.extensions?.field).toBe("filter.types");

    // Another workspace's changes.
    const tenant = await server.createTenant();
    await createContact(server.graphqlUrl, tenant.token, { name: "Elsewhere", phone: "+1 555 0100" });
    // A type the member cannot read.
    await gqlOk(
      server.graphqlUrl,
      `mutation { createResource(input: { type: "account", values: { name: "Secret Corp" } }) { resource { id } } }`,
      {},
      { token: owner },
    );
    // A readable type with a hidden field.
    const id = await createContact(server.graphqlUrl, owner, { name: "Visible", phone: "+1 555 0199" });
    // Only the hidden field changes: recorded as SKIPPED, nothing sent.
    await gqlOk(
      server.graphqlUrl,
      UPDATE_RESOURCE,
      { input: { id, values: { phone: "+1 555 0200" } } },
      { token: owner },
    );
    await gqlOk(
      server.graphqlUrl,
      UPDATE_RESOURCE,
      { input: { id, values: { name: "Renamed" } } },
      { token: owner },
    );

    await r.waitFor(2);
    await sleep(500);
    expect(r.unverified).toHaveLength(0);
    expect(r.received.map((x) => x.payload.type)).toEqual(["contact.created", "contact.updated"]);
    for (const x of r.received) {
      // The hidden phone numbers, whole: "555" alone also turns up in a millisecond timestamp.
      for (const phone of ["+1 555 0100", "+1 555 0199", "+1 555 0200"]) expect(x.body).not.toContain(phone);
      expect(x.body).not.toContain("phone");
      expect(x.body).not.toContain("Secret Corp");
      expect(x.body).not.toContain("Elsewhere");
    }
    const view = await eventually(
      () => webhookView(server.graphqlUrl, member.token, hook.id),
      (w) => w.deliveries.nodes.length === 3,
    );
    expect(view.deliveries.nodes.map((d) => [d.eventType, d.status])).toEqual([
      ["contact.updated", "SUCCEEDED"],
      ["contact.updated", "SKIPPED"],
      ["contact.created", "SUCCEEDED"],
    ]);
    expect(view.deliveries.nodes[1]?.attempts).toEqual([]);
  });

  it("follows the creator's access as it changes after creation", async () => {
    const owner = server.owner.token;
    const member = await memberWithKey("MEMBER", "narrowed@example.com");
    const r = await receiver();
    const hook = await createWebhook(server.graphqlUrl, member.token, {
      url: r.url,
      filter: { types: ["task"] },
    });
    r.secrets = [hook.secret];
    await gqlOk(
      server.graphqlUrl,
      SET_TYPE_ACCESS,
      { input: { resourceType: "task", role: "MEMBER", access: "NONE" } },
      { token: owner },
    );
    await gqlOk(
      server.graphqlUrl,
      `mutation { createResource(input: { type: "task", values: { name: "Hidden task" } }) { resource { id } } }`,
      {},
      { token: owner },
    );
    await sleep(800);
    expect(r.received).toHaveLength(0);
    const view = await webhookView(server.graphqlUrl, member.token, hook.id);
    expect(view.deliveries.nodes).toHaveLength(0);
    expect(view.status).toBe("ACTIVE");
  });

  it("disables the webhooks of a removed member at once", async () => {
    const member = await memberWithKey("MEMBER", "leaver@example.com");
    const r = await receiver();
    const hook = await createWebhook(server.graphqlUrl, member.token, {
      url: r.url,
      filter: { types: ["contact"] },
    });
    await gqlOk(
      server.graphqlUrl,
      `mutation($id: ID!) { removeMember(input: { memberId: $id }) { deletedId } }`,
      { id: member.id },
      { token: server.owner.token },
    );
    const view = await webhookView(server.graphqlUrl, server.owner.token, hook.id);
    expect(view.status).toBe("DISABLED");
    expect(view.disabledReason).toMatch(/left the workspace/);
    await createContact(server.graphqlUrl, server.owner.token, { name: "After leaving" });
    await sleep(500);
    expect(r.received).toHaveLength(0);
    const enable = await gql(
      server.graphqlUrl,
      `mutation($id: ID!) { updateWebhook(input: { id: $id, enabled: true }) { webhook { status } } }`,
      { id: hook.id },
      { token: server.owner.token },
    );
    expect(errorCode(enable)).toBe("BAD_USER_INPUT");
  });

  it("shows members their own webhooks and admins all of them", async () => {
    const a = await memberWithKey("MEMBER", "a@example.com");
    const b = await memberWithKey("MEMBER", "b@example.com");
    const viewer = await memberWithKey("VIEWER", "viewer@example.com");
    const r = await receiver();
    const hookA = await createWebhook(server.graphqlUrl, a.token, { url: r.url });
    const hookV = await createWebhook(server.graphqlUrl, viewer.token, { url: r.url });
    const list = (token: string) =>
      gqlOk<{ webhooks: { id: string }[] }>(
        server.graphqlUrl,
        "{ webhooks { id createdBy { id } } }",
        {},
        { token },
      ).then((d) => d.webhooks.map((w) => w.id));
    expect(await list(a.token)).toEqual([hookA.id]);
    expect(await list(b.token)).toEqual([]);
    expect(await list(server.owner.token)).toEqual(expect.arrayContaining([hookA.id, hookV.id]));
    const seen = await gqlOk<{ webhook: null; node: null }>(
      server.graphqlUrl,
      `query($id: ID!) { webhook(id: $id) { id } node(id: $id) { id } }`,
      { id: hookA.id },
      { token: b.token },
    );
    expect(seen).toEqual({ webhook: null, node: null });
    for (const mutation of [
      `mutation($id: ID!) { deleteWebhook(input: { id: $id }) { deletedId } }`,
      `mutation($id: ID!) { updateWebhook(input: { id: $id, description: "mine now" }) { webhook { id } } }`,
      `mutation($id: ID!) { rotateWebhookSecret(input: { id: $id }) { secret } }`,
      `mutation($id: ID!) { testWebhook(input: { id: $id }) { delivery { id } } }`,
      `mutation($id: ID!) { replayWebhook(input: { id: $id, after: "0" }) { webhook { id } } }`,
    ]) {
      expect(errorCode(await gql(server.graphqlUrl, mutation, { id: hookA.id }, { token: b.token }))).toBe(
        "NOT_FOUND",
      );
    }
    const tenant = await server.createTenant();
    expect(
      errorCode(
        await gql(
          server.graphqlUrl,
          `mutation($id: ID!) { deleteWebhook(input: { id: $id }) { deletedId } }`,
          { id: hookA.id },
          { token: tenant.token },
        ),
      ),
    ).toBe("NOT_FOUND");
    const anonymous = await gql(server.graphqlUrl, "{ webhooks { id } }");
    expect(anonymous.status).toBe(401);
    // An admin may manage anyone's webhook.
    const deleted = await gqlOk<{ deleteWebhook: { deletedId: string } }>(
      server.graphqlUrl,
      `mutation($id: ID!) { deleteWebhook(input: { id: $id }) { deletedId } }`,
      { id: hookA.id },
      { token: server.owner.token },
    );
    expect(deleted.deleteWebhook.deletedId).toBe(hookA.id);
  });
});

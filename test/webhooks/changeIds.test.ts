import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/kernel/db.ts";
import { pruneChanges } from "../../src/ledger/feed.ts";
import { gqlOk } from "../helpers/graphql.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { createContact, createWebhook, eventually, UPDATE_RESOURCE, webhookView } from "./ops.ts";
import { receiverPool, sleep } from "./receiver.ts";

/**
 * A resource-change delivery stores only its change id; the change is read from the feed and
 * trimmed for the creator when it is sent. These pin what a receiver sees (byte for byte) and what
 * happens to a delivery whose change, creator or access moved on while it waited.
 */
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

/** The first attempt fails, so the delivery waits a retry (1 s) in the queue. */
const failFirst = (_req: unknown, index: number) => (index === 0 ? 500 : 200);

async function memberWithKey(email: string) {
  const owner = { token: server.owner.token };
  const { createMember } = await gqlOk<{ createMember: { member: { id: string } } }>(
    server.graphqlUrl,
    `mutation($input: CreateMemberInput!) { createMember(input: $input) { member { id } } }`,
    { input: { email, role: "MEMBER" } },
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

const hideField = (field: string) =>
  gqlOk(
    server.graphqlUrl,
    `mutation($input: SetFieldAccessInput!) { setFieldAccess(input: $input) { field { key } } }`,
    { input: { resourceType: "contact", field, role: "MEMBER", access: "NONE" } },
    { token: server.owner.token },
  );

type Data = Record<string, unknown>;

describe("resource-change deliveries read their change at delivery", () => {
  it("sends the change as the feed serves it, byte for byte, and stores no copy of it", async () => {
    const token = server.owner.token;
    const r = await receiver();
    const hook = await createWebhook(server.graphqlUrl, token, {
      url: r.url,
      filter: { types: ["contact"] },
    });
    r.secrets = [hook.secret];
    const { createResource } = await gqlOk<{ createResource: { resource: { id: string } } }>(
      server.graphqlUrl,
      `mutation { createResource(input: { type: "account", values: { name: "Acme" } }) { resource { id } } }`,
      {},
      { token },
    );
    const id = await createContact(server.graphqlUrl, token, { name: "Ada", email: "ada@example.com" });
    await gqlOk(
      server.graphqlUrl,
      UPDATE_RESOURCE,
      { input: { id, values: { title: "Countess", accounts: [createResource.resource.id] } } },
      { token, headers: { "x-plugboard-origin": "crm-sync", "idempotency-key": "golden-1" } },
    );
    await r.waitFor(2);
    const { changes } = await gqlOk<{ changes: { nodes: Data[] } }>(
      server.graphqlUrl,
      `query($ids: [ID!]) { changes(last: 2, filter: { resourceIds: $ids }) { nodes {
        id kind resourceType resourceId occurredAt actor { kind member { id } credentialId }
        fields { fieldId key name previousValue value added removed } snapshot version origin
        request { requestId idempotencyKey } } } }`,
      { ids: [id] },
      { token },
    );
    // The payload's data: the change as the feed serves it, in the documented key order.
    const expected = (change: Data, body: string) => {
      const actor = change.actor as { kind: string; member: { id: string } | null; credentialId: string };
      const request = change.request as { requestId: string | null; idempotencyKey: string | null } | null;
      const parsed = JSON.parse(body) as { type: string; timestamp: string; webhookId: string };
      return JSON.stringify({
        type: `contact.${String(change.kind).toLowerCase()}`,
        timestamp: parsed.timestamp,
        webhookId: hook.id,
        data: {
          id: change.id,
          kind: change.kind,
          resourceType: change.resourceType,
          resourceId: change.resourceId,
          occurredAt: change.occurredAt,
          actor: { kind: actor.kind, memberId: actor.member?.id ?? null, credentialId: actor.credentialId },
          fields: (change.fields as Data[]).map((f) => ({
            fieldId: f.fieldId,
            key: f.key,
            name: f.name,
            previousValue: f.previousValue,
            value: f.value,
            ...(f.added ? { added: f.added } : {}),
            ...(f.removed ? { removed: f.removed } : {}),
          })),
          snapshot: change.snapshot,
          version: change.version,
          origin: change.origin,
          request: request && { requestId: request.requestId, idempotencyKey: request.idempotencyKey },
        },
      });
    };
    expect(changes.nodes).toHaveLength(2);
    expect(r.received.map((x) => x.body)).toEqual(
      changes.nodes.map((change, i) => expected(change, r.received[i]?.body ?? "{}")),
    );
    const updated = r.received[1]?.payload.data as Data;
    expect(updated.origin).toBe("crm-sync");
    expect(updated.request).toMatchObject({ idempotencyKey: "golden-1" });
    expect((updated.fields as Data[]).map((f) => f.key).sort()).toEqual(["accounts", "title"]);

    const rows = await queryRows<{ change_seq: string; data: unknown }>(
      server.database.db,
      sql`select change_seq, data from webhook_deliveries where webhook_id = ${hook.id}`,
    );
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row.data).toBeNull();

    // A delivery enqueued before deliveries stopped keeping the change (its data still filled in)
    // is sent from the change all the same: the stored copy is never read.
    const [delivery] = await queryRows<{ id: string }>(
      server.database.db,
      sql`update webhook_deliveries set data = ${JSON.stringify({ snapshot: { name: "Stale copy" } })}::jsonb
          where webhook_id = ${hook.id} and change_seq = ${Number(changes.nodes[1]?.id)} returning id`,
    );
    await gqlOk(
      server.graphqlUrl,
      `mutation($id: ID!) { redeliverWebhookDelivery(input: { deliveryId: $id }) { delivery { id } } }`,
      { id: delivery?.id },
      { token },
    );
    await r.waitFor(3);
    expect(r.received[2]?.headers["webhook-id"]).toBe(delivery?.id);
    expect(r.received[2]?.body).toBe(expected(changes.nodes[1] as Data, r.received[2]?.body ?? "{}"));
  });

  it("fails a delivery whose change was pruned while it waited, without blaming the receiver", async () => {
    const token = server.owner.token;
    const r = await receiver(failFirst);
    const hook = await createWebhook(server.graphqlUrl, token, {
      url: r.url,
      filter: { types: ["contact"] },
    });
    r.secrets = [hook.secret];
    await createContact(server.graphqlUrl, token, { name: "Short-lived" });
    await r.waitFor(1);
    // Retention passes while the delivery waits for its retry.
    await sleep(20);
    await pruneChanges(server.database.db, 0);
    const view = await eventually(
      () => webhookView(server.graphqlUrl, token, hook.id),
      (w) => w.deliveries.nodes[0]?.status === "FAILED",
      5_000,
    );
    const [delivery] = view.deliveries.nodes;
    expect(delivery?.changeId).not.toBeNull();
    expect(delivery?.eventType).toBe("contact.created");
    expect(delivery?.nextAttemptAt).toBeNull();
    expect(delivery?.attempts.map((a) => [a.attempt, a.responseStatus])).toEqual([
      [1, 500],
      [2, null],
    ]);
    expect(delivery?.attempts[1]?.error).toMatch(/no longer retained/);
    expect(delivery?.attempts[1]?.durationMs).toBe(0);
    expect(r.received).toHaveLength(1);
    // Not the receiver's failure: the webhook's health counts only the 500.
    expect(view.status).toBe("ACTIVE");
    expect(view.consecutiveFailures).toBe(1);
    // Redelivering it cannot bring the change back; it says so again.
    await gqlOk(
      server.graphqlUrl,
      `mutation($id: ID!) { redeliverWebhookDelivery(input: { deliveryId: $id }) { delivery { id } } }`,
      { id: delivery?.id },
      { token },
    );
    const again = await eventually(
      () => webhookView(server.graphqlUrl, token, hook.id),
      (w) => w.deliveries.nodes[0]?.attempts.length === 3 && w.deliveries.nodes[0]?.status === "FAILED",
      5_000,
    );
    expect(again.deliveries.nodes[0]?.attempts[2]?.error).toMatch(/no longer retained/);
    // Later changes are delivered as usual.
    await createContact(server.graphqlUrl, token, { name: "Kept" });
    await r.waitFor(2);
    expect(r.received[1]?.payload.data.snapshot).toMatchObject({ name: "Kept" });
  });

  it("keeps a field hidden since enqueueing out of the retry", async () => {
    const member = await memberWithKey("since@example.com");
    const r = await receiver(failFirst);
    const hook = await createWebhook(server.graphqlUrl, member.token, {
      url: r.url,
      filter: { types: ["contact"] },
    });
    r.secrets = [hook.secret];
    await createContact(server.graphqlUrl, server.owner.token, { name: "Phoned", phone: "+1 555 0342" });
    await r.waitFor(1);
    expect(r.received[0]?.body).toContain("+1 555 0342");
    await hideField("phone");
    await r.waitFor(2, 5_000);
    expect(r.received[1]?.headers["webhook-id"]).toBe(r.received[0]?.headers["webhook-id"]);
    expect(r.received[1]?.body).not.toContain("+1 555 0342");
    expect(r.received[1]?.body).not.toContain("phone");
    expect(r.received[1]?.payload.data.snapshot).toMatchObject({ name: "Phoned" });
  });

  it("sends what a where filter matched at enqueueing, after the filter changed and its field was hidden", async () => {
    const member = await memberWithKey("where@example.com");
    const r = await receiver(failFirst);
    const hook = await createWebhook(server.graphqlUrl, member.token, {
      url: r.url,
      filter: { types: ["contact"], where: { field: "title", eq: "Matched" } },
    });
    r.secrets = [hook.secret];
    await createContact(server.graphqlUrl, server.owner.token, { name: "Not this one", title: "Other" });
    await createContact(server.graphqlUrl, server.owner.token, { name: "Filtered", title: "Matched" });
    await r.waitFor(1);
    // The filter decides what is enqueued; an enqueued delivery goes out (trimmed as the creator now reads).
    await gqlOk(
      server.graphqlUrl,
      `mutation($input: UpdateWebhookInput!) { updateWebhook(input: $input) { webhook { id } } }`,
      { input: { id: hook.id, filter: { types: ["contact"], where: { field: "title", eq: "Nobody" } } } },
      { token: member.token },
    );
    await hideField("title");
    await r.waitFor(2, 5_000);
    await sleep(300);
    expect(r.received).toHaveLength(2);
    expect(r.received[1]?.headers["webhook-id"]).toBe(r.received[0]?.headers["webhook-id"]);
    expect(r.received[0]?.body).toContain("Matched");
    expect(r.received[1]?.payload.data.snapshot).toMatchObject({ name: "Filtered" });
    expect(r.received[1]?.body).not.toContain("Matched");
    expect(r.received[1]?.body).not.toContain("title");
  });

  it("disables the webhook, sending nothing more, when the worker finds its creator gone", async () => {
    const member = await memberWithKey("gone@example.com");
    const r = await receiver(failFirst);
    const hook = await createWebhook(server.graphqlUrl, member.token, {
      url: r.url,
      filter: { types: ["contact"] },
    });
    r.secrets = [hook.secret];
    await createContact(server.graphqlUrl, server.owner.token, { name: "Waiting" });
    await r.waitFor(1);
    // Removed without removeMember's hook (which disables at once): the worker must notice itself.
    await server.database.db.execute(sql`update members set removed_at = now() where id = ${member.id}`);
    const view = await eventually(
      () => webhookView(server.graphqlUrl, server.owner.token, hook.id),
      (w) => w.status === "DISABLED",
      5_000,
    );
    expect(view.disabledReason).toMatch(/left the workspace/);
    await sleep(1_500);
    expect(r.received).toHaveLength(1);
    const after = await webhookView(server.graphqlUrl, server.owner.token, hook.id);
    expect(after.deliveries.nodes.map((d) => [d.status, d.attempts.length])).toEqual([["PENDING", 1]]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gqlOk } from "../helpers/graphql.ts";
import { scrapeMetrics } from "../helpers/metrics.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { createContact, createWebhook, eventually, UPDATE_RESOURCE, webhookView } from "./ops.ts";
import { receiverPool, sleep } from "./receiver.ts";

let server: TestServer;
const { receiver, closeAll: closeReceivers } = receiverPool();
beforeAll(async () => {
  server = await startServer({
    PLUGBOARD_WEBHOOK_ALLOW_PRIVATE: "true",
    PLUGBOARD_WEBHOOK_RETRY_SCHEDULE: "1,1",
    PLUGBOARD_WEBHOOK_TIMEOUT_MS: "700",
  });
});
afterAll(async () => {
  await server?.close();
  await closeReceivers();
});

describe("webhook deliveries", () => {
  it("delivers a signed change with its diff, and nothing after deletion", async () => {
    const r = await receiver();
    const token = server.owner.token;
    const hook = await createWebhook(server.graphqlUrl, token, {
      url: r.url,
      filter: { types: ["contact"] },
      description: "CRM sync",
    });
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9+/=]{40,}$/);
    r.secrets = [hook.secret];

    const id = await createContact(server.graphqlUrl, token, { name: "Ada", email: "ada@example.com" });
    await gqlOk(
      server.graphqlUrl,
      UPDATE_RESOURCE,
      { input: { id, values: { email: "ada@lovelace.dev" } } },
      { token },
    );
    await r.waitFor(2);
    expect(r.unverified).toHaveLength(0);
    const [created, updated] = r.received;
    expect(created?.payload.type).toBe("contact.created");
    expect(created?.payload.webhookId).toBe(hook.id);
    expect(created?.headers["content-type"]).toBe("application/json");
    expect(created?.payload.data).toMatchObject({
      kind: "CREATED",
      resourceType: "contact",
      resourceId: id,
      version: 1,
    });
    expect(updated?.payload.type).toBe("contact.updated");
    expect(updated?.payload.data).toMatchObject({
      kind: "UPDATED",
      resourceId: id,
      version: 2,
      fields: [{ key: "email", previousValue: "ada@example.com", value: "ada@lovelace.dev" }],
      snapshot: { name: "Ada", email: "ada@lovelace.dev" },
    });
    expect(Number(updated?.payload.data.id)).toBe(Number(created?.payload.data.id) + 1);
    expect(updated?.payload.data).not.toHaveProperty("resource");
    expect(updated?.payload.data.actor).toMatchObject({ kind: "API_KEY", memberId: server.owner.memberId });

    const view = await eventually(
      () => webhookView(server.graphqlUrl, token, hook.id),
      // The webhook row and its deliveries are two reads: wait until both show the success.
      (w) => w.deliveries.nodes.every((d) => d.status === "SUCCEEDED") && w.lastDeliveryAt !== null,
    );
    expect(view.deliveries.nodes.map((d) => d.eventType)).toEqual(["contact.updated", "contact.created"]);
    expect(view.deliveries.nodes[0]?.id).toBe(updated?.headers["webhook-id"]);
    expect(view.deliveries.nodes[0]?.attempts).toMatchObject([
      { attempt: 1, responseStatus: 200, error: null },
    ]);
    expect(view.lastDeliveryAt).not.toBeNull();

    await gqlOk(
      server.graphqlUrl,
      `mutation($id: ID!) { deleteWebhook(input: { id: $id }) { deletedId } }`,
      { id: hook.id },
      { token },
    );
    await createContact(server.graphqlUrl, token, { name: "Grace" });
    await sleep(600);
    expect(r.received).toHaveLength(2);
  });

  it("starts at the head: changes before creation are not sent until replayed", async () => {
    const r = await receiver();
    const token = server.owner.token;
    await createContact(server.graphqlUrl, token, { name: "Before" });
    const hook = await createWebhook(server.graphqlUrl, token, {
      url: r.url,
      filter: { types: ["contact"], kinds: ["CREATED"] },
    });
    r.secrets = [hook.secret];
    await createContact(server.graphqlUrl, token, { name: "After" });
    await r.waitFor(1);
    await sleep(300);
    expect(r.received.map((x) => x.payload.data.snapshot)).toMatchObject([{ name: "After" }]);
    const afterId = Number(r.received[0]?.payload.data.id);
    // Replaying from just before "After" resends it on the same delivery (same webhook-id).
    await gqlOk(
      server.graphqlUrl,
      `mutation($id: ID!, $after: String!) { replayWebhook(input: { id: $id, after: $after }) { webhook { id } } }`,
      { id: hook.id, after: String(afterId - 1) },
      { token },
    );
    await r.waitFor(2);
    expect(r.received[1]?.headers["webhook-id"]).toBe(r.received[0]?.headers["webhook-id"]);
    // The attempt is recorded just after the receiver answered.
    const view = await eventually(
      () => webhookView(server.graphqlUrl, token, hook.id),
      (w) => w.deliveries.nodes[0]?.attempts.length === 2,
    );
    expect(view.deliveries.nodes).toHaveLength(1);
  });

  it("retries 500, 500, then 200: three attempts, all in the log", async () => {
    const r = await receiver((_req, index) => (index < 2 ? 500 : 200));
    const token = server.owner.token;
    const hook = await createWebhook(server.graphqlUrl, token, {
      url: r.url,
      filter: { types: ["contact"] },
    });
    r.secrets = [hook.secret];
    await createContact(server.graphqlUrl, token, { name: "Retry" });
    await r.waitFor(3, 8_000);
    expect(new Set(r.received.map((x) => x.headers["webhook-id"])).size).toBe(1);
    // The schedule's delay (1 s ±10%) separates the attempts.
    expect((r.received[1]?.at ?? 0) - (r.received[0]?.at ?? 0)).toBeGreaterThanOrEqual(850);
    const view = await eventually(
      () => webhookView(server.graphqlUrl, token, hook.id),
      // The webhook row is read before its deliveries: wait until both show the success.
      (w) => w.deliveries.nodes[0]?.status === "SUCCEEDED" && w.consecutiveFailures === 0,
    );
    expect(view.deliveries.nodes[0]?.attempts.map((a) => a.responseStatus)).toEqual([500, 500, 200]);
    expect(view.deliveries.nodes[0]?.attempts[0]?.responseBody).toBe("answer 500");
    expect(view.consecutiveFailures).toBe(0);
  });

  it("gives up after 1 + schedule length attempts, without holding back later changes", async () => {
    const r = await receiver((req) =>
      (req.payload.data.snapshot as { name?: string }).name === "Bad" ? 503 : 200,
    );
    const token = server.owner.token;
    const hook = await createWebhook(server.graphqlUrl, token, {
      url: r.url,
      filter: { types: ["contact"] },
    });
    r.secrets = [hook.secret];
    await createContact(server.graphqlUrl, token, { name: "Bad" });
    await createContact(server.graphqlUrl, token, { name: "Good" });
    // While the failing delivery waits for its retries, /metrics counts it in the backlog.
    const backlog = await eventually(
      () => scrapeMetrics(server.url),
      (m) => (m.get("plugboard_webhook_deliveries_pending") ?? 0) >= 1,
      3_000,
    );
    expect(backlog.get("plugboard_webhook_delivery_backlog_seconds")).toBeGreaterThan(0);
    const view = await eventually(
      () => webhookView(server.graphqlUrl, token, hook.id),
      (w) => w.deliveries.nodes.length === 2 && w.deliveries.nodes.every((d) => d.status !== "PENDING"),
      8_000,
    );
    const [good, bad] = view.deliveries.nodes;
    expect(good?.status).toBe("SUCCEEDED");
    expect(bad?.status).toBe("FAILED");
    expect(bad?.attempts.map((a) => a.responseStatus)).toEqual([503, 503, 503]);
    expect(bad?.nextAttemptAt).toBeNull();
    // The good change went out before the failing one gave up.
    const goodAt =
      r.received.find((x) => (x.payload.data.snapshot as { name?: string }).name === "Good")?.at ?? 0;
    expect(goodAt).toBeLessThan(r.received[r.received.length - 1]?.at ?? 0);
    // The success reset the failure count; every attempt the receiver saw after it failed. The webhook
    // row is read before its deliveries, so wait for it to catch up.
    const name = (x: (typeof r.received)[number]) => (x.payload.data.snapshot as { name?: string }).name;
    const failuresSinceSuccess = r.received.length - 1 - r.received.findLastIndex((x) => name(x) === "Good");
    expect(failuresSinceSuccess).toBeGreaterThan(0);
    await eventually(
      () => webhookView(server.graphqlUrl, token, hook.id),
      (w) => w.consecutiveFailures === failuresSinceSuccess,
      3_000,
    );
    await eventually(
      () => scrapeMetrics(server.url),
      (m) => m.get("plugboard_webhook_deliveries_pending") === 0,
      3_000,
    );

    // Redelivery adds attempts to the same delivery.
    r.setResponder(() => 200);
    await gqlOk(
      server.graphqlUrl,
      `mutation($id: ID!) { redeliverWebhookDelivery(input: { deliveryId: $id }) { delivery { id status } } }`,
      { id: bad?.id },
      { token },
    );
    const after = await eventually(
      () => webhookView(server.graphqlUrl, token, hook.id),
      (w) => w.deliveries.nodes[1]?.status === "SUCCEEDED",
    );
    expect(after.deliveries.nodes[1]?.attempts.map((a) => a.attempt)).toEqual([1, 2, 3, 4]);
  });

  it("disables the webhook at once on 410 Gone, and re-enabling resumes", async () => {
    const r = await receiver(() => 410);
    const token = server.owner.token;
    const hook = await createWebhook(server.graphqlUrl, token, {
      url: r.url,
      filter: { types: ["contact"] },
    });
    r.secrets = [hook.secret];
    await createContact(server.graphqlUrl, token, { name: "Gone" });
    const view = await eventually(
      () => webhookView(server.graphqlUrl, token, hook.id),
      (w) => w.status === "DISABLED",
    );
    expect(view.disabledReason).toMatch(/410/);
    expect(view.deliveries.nodes[0]?.attempts).toHaveLength(1);
    await createContact(server.graphqlUrl, token, { name: "While disabled" });
    await sleep(500);
    expect(r.received).toHaveLength(1);

    r.setResponder(() => 200);
    await gqlOk(
      server.graphqlUrl,
      `mutation($id: ID!) { updateWebhook(input: { id: $id, enabled: true }) { webhook { status disabledReason } } }`,
      { id: hook.id },
      { token },
    );
    await r.waitFor(2);
    expect(r.received[1]?.payload.data.snapshot).toMatchObject({ name: "While disabled" });
  });

  it("records a timeout when the receiver hangs, and retries", async () => {
    const r = await receiver((_req, index) => (index === 0 ? "hang" : 200));
    const token = server.owner.token;
    const hook = await createWebhook(server.graphqlUrl, token, {
      url: r.url,
      filter: { types: ["contact"] },
    });
    r.secrets = [hook.secret];
    await createContact(server.graphqlUrl, token, { name: "Slow" });
    const view = await eventually(
      () => webhookView(server.graphqlUrl, token, hook.id),
      (w) => w.deliveries.nodes[0]?.status === "SUCCEEDED",
      8_000,
    );
    const [first, second] = view.deliveries.nodes[0]?.attempts ?? [];
    expect(first?.responseStatus).toBeNull();
    expect(first?.error).toMatch(/timeout/);
    expect(first?.durationMs).toBeGreaterThanOrEqual(500);
    expect(second?.responseStatus).toBe(200);
  });

  it("sends a ping from testWebhook", async () => {
    const r = await receiver();
    const token = server.owner.token;
    const hook = await createWebhook(server.graphqlUrl, token, { url: r.url });
    r.secrets = [hook.secret];
    const result = await gqlOk<{
      testWebhook: { delivery: { id: string; changeId: string | null; eventType: string } };
    }>(
      server.graphqlUrl,
      `mutation($id: ID!) { testWebhook(input: { id: $id }) { delivery { id changeId eventType status } } }`,
      { id: hook.id },
      { token },
    );
    expect(result.testWebhook.delivery).toMatchObject({ changeId: null, eventType: "ping" });
    await r.waitFor(1);
    expect(r.received[0]?.payload).toMatchObject({ type: "ping", webhookId: hook.id, data: {} });
    expect(r.received[0]?.headers["webhook-id"]).toBe(result.testWebhook.delivery.id);
  });
});

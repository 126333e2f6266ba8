import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChangeRecord, connector, HookReceiver } from "../../examples/connector/index.ts";
import {
  AuthenticationError,
  type PlugboardClient,
  RedeliverWebhookDeliveryDocument,
} from "../../src/client/index.ts";
import { api, memberApi } from "../helpers/api.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

/** Resolves when `condition` holds, checking every 50 ms; fails after 10 s naming `what`. */
async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The example connector, run as a platform would run it, against a live server and a real receiver. */
let server: TestServer;
let client: PlugboardClient;
const { authentication, dropdowns, inputFields, triggers, searches, actions } = connector;

beforeAll(async () => {
  server = await startServer({
    PLUGBOARD_WEBHOOK_ALLOW_PRIVATE: "true",
    PLUGBOARD_WEBHOOK_RETRY_SCHEDULE: "1",
  });
  client = authentication.connect({ baseUrl: server.url, apiKey: server.owner.token });
  // A workspace's own fields: a required one, a number, a flag and a unique key for upserts.
  await client.createField({
    resourceType: "contact",
    key: "region",
    name: "Region",
    type: "TEXT",
    required: true,
  });
  await client.createField({ resourceType: "contact", key: "score", name: "Score", type: "INTEGER" });
  await client.createField({ resourceType: "contact", key: "vip", name: "VIP", type: "BOOLEAN" });
  await client.createField({
    resourceType: "contact",
    key: "code",
    name: "Code",
    type: "TEXT",
    unique: true,
  });
});
afterAll(() => server?.close());

describe("authentication", () => {
  it("tests a connection and labels it; a bad key fails the test with a 401", async () => {
    expect(await authentication.test(client)).toEqual({
      label: "owner@example.com (Default)",
      scopes: expect.arrayContaining(["READ", "WRITE"]),
    });
    const bad = authentication.connect({ baseUrl: server.url, apiKey: "pbk_not_a_key" });
    const error = await authentication.test(bad).catch((e) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error.status).toBe(401);
  });
});

describe("dynamic dropdowns and input fields", () => {
  it("lists the types this connection may create, and a type's writable fields", async () => {
    expect((await dropdowns.types(client)).map((c) => c.value)).toEqual(
      expect.arrayContaining(["account", "contact", "task"]),
    );
    const fields = await inputFields(client, "contact");
    const byKey = new Map(fields.map((f) => [f.key, f]));
    expect(byKey.get("region")).toMatchObject({ type: "string", required: true });
    expect(byKey.get("score")).toMatchObject({ type: "integer", required: false });
    expect(byKey.get("accounts")).toMatchObject({ list: true, dynamic: { resourceType: "account" } });
    expect(byKey.get("assignee")).toMatchObject({ dynamic: { members: true } });
    expect(byKey.has("createdAt")).toBe(false); // read-only: never offered
    const industry = (await inputFields(client, "account")).find((f) => f.key === "industry");
    expect(industry?.choices?.map((c) => c.value)).toContain("Finance");
    const forUpdate = await inputFields(client, "contact", "update");
    expect(forUpdate.find((f) => f.key === "region")?.required).toBe(false);
  });

  it("offers a viewer's connection no types to create and no fields to write", async () => {
    const viewer = await memberApi(server, api(server, server.owner.token), "VIEWER");
    const viewerClient = authentication.connect({ baseUrl: server.url, apiKey: viewer.token });
    expect(await dropdowns.types(viewerClient)).toEqual([]);
    expect(await inputFields(viewerClient, "contact")).toEqual([]);
  });

  it("searches a reference field's dropdown by name", async () => {
    for (const name of ["Acme", "Acme EU", "Globex"]) await actions.create(client, "account", { name });
    const choices = await dropdowns.resources(client, "account", "Acme");
    expect(choices.map((c) => c.label)).toEqual(["Acme", "Acme EU"]);
  });
});

describe("polling trigger", () => {
  it("starts at the head, then emits each change once, in order, across polls and a restart", async () => {
    let { records, state } = await triggers.changesPolling.poll(
      client,
      triggers.changesPolling.initialState(),
    );
    expect(records).toEqual([]);
    expect(state.cursor).not.toBeNull();
    const saved = state;
    const ada = await actions.create(client, "contact", { name: "Ada", region: "EU" });
    await actions.update(client, ada.id, { score: "7" });
    ({ records, state } = await triggers.changesPolling.poll(client, state));
    expect(records.map((r) => [r.kind, r.resourceId])).toEqual([
      ["CREATED", ada.id],
      ["UPDATED", ada.id],
    ]);
    expect(records[1]).toMatchObject({ name: "Ada", score: 7, changedFields: ["score"] });
    expect((await triggers.changesPolling.poll(client, state)).records).toEqual([]);
    // The platform lost its last save and polls from an older cursor: the ids it saw are not re-emitted.
    const replayed = await triggers.changesPolling.poll(client, { cursor: saved.cursor, seen: state.seen });
    expect(replayed.records).toEqual([]);
    expect(replayed.state.cursor).toBe(state.cursor);
  });

  it("filters, and splits a burst over polls by its limit", async () => {
    let { state } = await triggers.changesPolling.poll(client, triggers.changesPolling.initialState());
    const filter = { types: ["contact"], kinds: ["CREATED" as const] };
    const created = [];
    for (const name of ["B1", "B2", "B3"]) {
      created.push((await actions.create(client, "contact", { name, region: "US" })).id);
      await actions.create(client, "account", { name: `${name} Inc` });
    }
    const first = await triggers.changesPolling.poll(client, state, { filter, limit: 2 });
    const second = await triggers.changesPolling.poll(client, first.state, { filter, limit: 2 });
    expect([...first.records, ...second.records].map((r) => r.resourceId)).toEqual(created);
    expect(first.records).toHaveLength(2);
    state = second.state;
    expect((await triggers.changesPolling.poll(client, state, { filter })).records).toEqual([]);
    const samples = await triggers.changesPolling.sample(client, filter);
    expect(samples.map((r) => r.resourceId)).toEqual([...created].reverse());
  });
});

describe("webhook trigger", () => {
  let receiver: HookReceiver;
  const emitted: { triggerId: string; record: ChangeRecord }[] = [];
  beforeAll(async () => {
    receiver = new HookReceiver((triggerId, record) => emitted.push({ triggerId, record }));
    await receiver.listen();
  });
  afterAll(() => receiver?.close());

  it("subscribes on enable, emits verified deliveries once, refuses forgeries, unsubscribes on disable", async () => {
    const hook = await triggers.changesWebhook.subscribe(client, receiver.urlFor("t1"), {
      types: ["contact"],
    });
    receiver.activate("t1", hook);
    await actions.create(client, "account", { name: "Not a contact" });
    const grace = await actions.create(client, "contact", { name: "Grace", region: "US" });
    await until(() => emitted.length >= 1, "the delivery of Grace's creation");
    expect(emitted.map((e) => [e.triggerId, e.record.kind, e.record.resourceId])).toEqual([
      ["t1", "CREATED", grace.id],
    ]);
    expect(emitted[0]?.record).toMatchObject({ name: "Grace", region: "US" });

    // A forged request is refused with 401 and emits nothing.
    const forged = await fetch(receiver.urlFor("t1"), {
      method: "POST",
      headers: {
        "webhook-id": "msg_forged",
        "webhook-timestamp": String(Math.floor(Date.now() / 1000)),
        "webhook-signature": "v1,AAAA",
      },
      body: JSON.stringify({ type: "contact.created", data: { id: "999" } }),
    });
    expect(forged.status).toBe(401);

    // A redelivery keeps its webhook-id: the receiver answers 200 and does not emit twice.
    const webhook = await client.webhook({ id: hook.webhookId });
    const delivery = webhook?.deliveries.nodes.find((d) => d.eventType === "contact.created");
    if (!delivery) throw new Error("no delivery recorded");
    await client.request(RedeliverWebhookDeliveryDocument, { input: { deliveryId: delivery.id } });
    await until(async () => {
      const again = await client.webhook({ id: hook.webhookId });
      return (again?.deliveries.nodes.find((d) => d.id === delivery.id)?.attempts.length ?? 0) >= 2;
    }, "the redelivery");
    expect(emitted).toHaveLength(1);

    await triggers.changesWebhook.unsubscribe(client, hook);
    receiver.deactivate("t1");
    expect((await client.webhooks()).map((w) => w.id)).not.toContain(hook.webhookId);
    await triggers.changesWebhook.unsubscribe(client, hook); // twice is fine
  });

  it("answers 410 for a trigger the platform no longer has, and Plugboard disables the webhook", async () => {
    const hook = await triggers.changesWebhook.subscribe(client, receiver.urlFor("t2"), {
      types: ["contact"],
    });
    // Never activated on the receiver: the platform turned the trigger off but the unsubscribe was lost.
    const before = emitted.length;
    await actions.create(client, "contact", { name: "Nobody listens", region: "EU" });
    await until(
      async () => (await client.webhook({ id: hook.webhookId }))?.status === "DISABLED",
      "the disable",
    );
    const webhook = await client.webhook({ id: hook.webhookId });
    expect(webhook?.deliveries.nodes[0]?.attempts.map((a) => a.responseStatus)).toEqual([410]);
    expect(emitted.length).toBe(before);
    await triggers.changesWebhook.unsubscribe(client, hook);
  });
});

describe("searches", () => {
  it("finds by field values, and finds-or-creates", async () => {
    const made = await actions.create(client, "contact", {
      name: "Linus",
      email: "linus@example.com",
      region: "EU",
    });
    expect(
      (await searches.findResources(client, "contact", { email: "linus@example.com" })).map((r) => r.id),
    ).toEqual([made.id]);
    expect(await searches.findResources(client, "contact", { email: "nobody@example.com" })).toEqual([]);
    const first = await searches.findOrCreate(
      client,
      "contact",
      { email: "new@example.com" },
      { name: "New", region: "US" },
    );
    const second = await searches.findOrCreate(
      client,
      "contact",
      { email: "new@example.com" },
      { name: "Other" },
    );
    expect([first.created, second.created]).toEqual([true, false]);
    expect(second.record).toMatchObject({ id: first.record.id, name: "New", region: "US" });
  });
});

describe("actions", () => {
  it("creates with form strings coerced, updates only what is given, upserts by a unique field", async () => {
    const made = await actions.create(client, "contact", {
      name: "Marie",
      region: "EU",
      score: "42",
      vip: "true",
      title: "",
    });
    expect(made).toMatchObject({ name: "Marie", score: 42, vip: true, title: null, version: 1 });
    const updated = await actions.update(client, made.id, { title: "Chemist" });
    expect(updated).toMatchObject({ name: "Marie", title: "Chemist", score: 42, version: 2 });
    const inserted = await actions.upsert(client, "contact", ["code"], {
      code: "M-1",
      name: "Pierre",
      region: "EU",
    });
    const upserted = await actions.upsert(client, "contact", ["code"], { code: "M-1", score: "3" });
    expect([inserted.created, upserted.created]).toEqual([true, false]);
    expect(upserted).toMatchObject({ id: inserted.id, name: "Pierre", score: 3 });
  });

  it("copies, links, assigns and moves", async () => {
    const acme = await actions.create(client, "account", { name: "Acme Group" });
    const sub = await actions.create(client, "account", { name: "Acme Labs" });
    const person = await actions.create(client, "contact", { name: "Rosalind", region: "EU" });
    const copy = await actions.copy(client, person.id, { name: "Rosalind (copy)" });
    expect(copy).toMatchObject({ name: "Rosalind (copy)", region: "EU" });
    expect(copy.id).not.toBe(person.id);
    const linked = await actions.link(client, person.id, "accounts", [acme.id, sub.id]);
    expect(linked.accounts).toEqual([acme.id, sub.id]);
    const unlinked = await actions.link(client, person.id, "accounts", [sub.id], true);
    expect(unlinked.accounts).toEqual([acme.id]);
    const me = await client.viewer();
    expect(await actions.assign(client, person.id, me.member.id)).toMatchObject({ assigneeId: me.member.id });
    expect(await actions.assign(client, person.id, null)).toMatchObject({ assigneeId: null });
    expect(await actions.move(client, sub.id, acme.id)).toMatchObject({ parentId: acme.id });
    expect(await actions.move(client, sub.id, null)).toMatchObject({ parentId: null });
  });
});

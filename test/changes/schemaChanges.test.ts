import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type Api, api, firstError, memberApi } from "../helpers/api.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { until } from "../helpers/subscriptions.ts";
import { createWebhook } from "../webhooks/ops.ts";
import { Receiver } from "../webhooks/receiver.ts";

let server: TestServer;
let owner: Api;
let viewer: Api;
let receiver: Receiver;
beforeAll(async () => {
  server = await startServer({
    PLUGBOARD_WEBHOOK_ALLOW_PRIVATE: "true",
    PLUGBOARD_WEBHOOK_RETRY_SCHEDULE: "1",
  });
  owner = api(server, server.owner.token);
  viewer = await memberApi(server, owner, "VIEWER");
  receiver = await Receiver.start();
});
afterAll(async () => {
  await receiver?.close();
  await server?.close();
});

const FEED = `query($after: String) { schemaChanges(after: $after) {
  nodes { id kind resourceType fieldKey role access actor { kind } request { idempotencyKey } }
  pageInfo { hasNextPage endCursor } headCursor } }`;
const SUBSCRIBE = `subscription($after: String) { schemaChanges(after: $after) { id kind resourceType fieldKey } }`;
type Event = { id: string; kind: string; resourceType: string; fieldKey: string | null };

const head = async (client: Api) => (await client.ok(FEED)).schemaChanges.headCursor as string;
const feed = async (client: Api, after: string) =>
  (await client.ok(FEED, { after })).schemaChanges.nodes as (Event & { role: string | null })[];
const kinds = (events: Event[]) =>
  events.map((e) => `${e.kind} ${e.resourceType}${e.fieldKey ? `.${e.fieldKey}` : ""}`);

const run = (m: string) => owner.ok(`mutation { ${m} }`);

/** Before the window: a type hidden from viewers, and a readable type with a hidden field. */
async function prepare(): Promise<void> {
  await run(`createResourceType(input: { key: "secretDeal", name: "Secret deal" }) { resourceType { key } }`);
  await run(
    `setTypeAccess(input: { resourceType: "secretDeal", role: VIEWER, access: NONE }) { resourceType { key } }`,
  );
  await run(`createResourceType(input: { key: "lead", name: "Lead" }) { resourceType { key } }`);
  await run(
    `createField(input: { resourceType: "lead", key: "notes", name: "Notes", type: TEXT }) { field { key } }`,
  );
  await run(
    `setFieldAccess(input: { resourceType: "lead", field: "notes", role: VIEWER, access: NONE }) { field { key } }`,
  );
}

/** Every kind of change, to what viewers can and cannot see. */
async function changeTheSchema(): Promise<void> {
  await run(
    `createField(input: { resourceType: "secretDeal", key: "margin", name: "Margin", type: NUMBER }) { field { key } }`,
  );
  await run(
    `updateResourceType(input: { key: "secretDeal", name: "Very secret deal" }) { resourceType { key } }`,
  );
  await run(`updateResourceType(input: { key: "lead", name: "Sales lead" }) { resourceType { key } }`);
  await run(
    `createField(input: { resourceType: "lead", key: "score", name: "Score", type: INTEGER }) { field { key } }`,
  );
  await run(
    `updateField(input: { resourceType: "lead", key: "score", name: "Lead score" }) { field { key } }`,
  );
  await run(
    `setFieldAccess(input: { resourceType: "lead", field: "notes", role: MEMBER, access: READ }) { field { key } }`,
  );
  await run(
    `setTypeAccess(input: { resourceType: "lead", role: MEMBER, access: WRITE }) { resourceType { key } }`,
  );
  await run(`deleteField(input: { resourceType: "lead", key: "score" }) { deletedId }`);
  await run(`deleteResourceType(input: { key: "secretDeal" }) { deletedId }`);
}

const OWNER_SEES = [
  "FIELD_CREATED secretDeal.margin",
  "TYPE_UPDATED secretDeal",
  "TYPE_UPDATED lead",
  "FIELD_CREATED lead.score",
  "FIELD_UPDATED lead.score",
  "ACCESS_CHANGED lead.notes",
  "ACCESS_CHANGED lead",
  "FIELD_DELETED lead.score",
  "TYPE_DELETED secretDeal",
];
const VIEWER_SEES = [
  "TYPE_UPDATED lead",
  "FIELD_CREATED lead.score",
  "FIELD_UPDATED lead.score",
  "ACCESS_CHANGED lead",
  "FIELD_DELETED lead.score",
];

describe("schema change events", () => {
  it("are recorded by every metadata write; feed, graphql-ws, SSE and webhooks trim them per reader", async () => {
    await prepare();
    const start = await head(owner);
    const hook = await createWebhook(server.graphqlUrl, viewer.token, {
      url: receiver.url,
      includeSchemaChanges: true,
    });
    receiver.secrets.push(hook.secret);
    const ws = createClient({
      url: server.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${viewer.token}` },
      retryAttempts: 0,
    });
    const live: Event[] = [];
    const stop = ws.subscribe<{ schemaChanges: Event }>(
      { query: SUBSCRIBE, variables: { after: start } },
      { next: (r) => r.data && live.push(r.data.schemaChanges), error: () => {}, complete: () => {} },
    );
    const abort = new AbortController();
    const sse = await fetch(server.graphqlUrl, {
      method: "POST",
      signal: abort.signal,
      headers: {
        accept: "text/event-stream",
        "content-type": "application/json",
        authorization: `Bearer ${viewer.token}`,
      },
      body: JSON.stringify({ query: SUBSCRIBE, variables: { after: start } }),
    });
    const sseText: string[] = [];
    const reading = (async () => {
      const reader = (sse.body as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) return;
        sseText.push(decoder.decode(value, { stream: true }));
      }
    })();

    await changeTheSchema();

    expect(kinds(await feed(owner, start))).toEqual(OWNER_SEES);
    const viewerFeed = await feed(viewer, start);
    expect(kinds(viewerFeed)).toEqual(VIEWER_SEES);
    expect(JSON.stringify(viewerFeed)).not.toMatch(/secretDeal|notes|margin/);
    const ids = (await feed(owner, start)).map((e) => Number(e.id));
    expect(ids).toEqual(ids.map((_, i) => Number(start) + i + 1)); // dense, in commit order

    await until(() => live.length >= VIEWER_SEES.length, "viewer's graphql-ws events");
    expect(kinds(live)).toEqual(VIEWER_SEES);
    await until(
      () => (sseText.join("").match(/"schemaChanges"/g) ?? []).length >= VIEWER_SEES.length,
      "SSE events",
    );
    const sseEvents = sseText
      .join("")
      .split("\n")
      .filter((line) => line.startsWith("data: "))
      .map((line) => JSON.parse(line.slice(6)).data.schemaChanges as Event);
    expect(kinds(sseEvents)).toEqual(VIEWER_SEES);

    await receiver.waitFor(VIEWER_SEES.length);
    await new Promise((resolve) => setTimeout(resolve, 500)); // nothing hidden arrives late
    expect(receiver.unverified).toEqual([]);
    expect(receiver.received.map((r) => r.payload.type)).toEqual(
      VIEWER_SEES.map((k) => `schema.${(k.split(" ")[0] as string).toLowerCase()}`),
    );
    expect(receiver.received[0]?.payload.data).toMatchObject({
      kind: "TYPE_UPDATED",
      resourceType: "lead",
      fieldKey: null,
    });
    expect(receiver.received.map((r) => r.body).join()).not.toMatch(/secretDeal|notes|margin/);

    stop();
    await ws.dispose();
    abort.abort();
    await reading;
  });

  it("only webhooks that opt in get them; the change carries the request's Idempotency-Key", async () => {
    const quiet = await Receiver.start();
    const hook = await createWebhook(server.graphqlUrl, owner.token, { url: quiet.url });
    const start = await head(owner);
    const created = await fetch(server.graphqlUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${owner.token}`,
        "Idempotency-Key": "schema-key-1",
      },
      body: JSON.stringify({
        query: `mutation { createField(input: { resourceType: "lead", key: "source", name: "Source", type: TEXT }) { field { key } } }`,
      }),
    });
    expect(created.status).toBe(200);
    const [event] = await feed(owner, start);
    expect(event).toMatchObject({
      kind: "FIELD_CREATED",
      fieldKey: "source",
      request: { idempotencyKey: "schema-key-1" },
    });
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(quiet.received).toEqual([]);
    const view = await owner.ok(`query($id: ID!) { webhook(id: $id) { includeSchemaChanges } }`, {
      id: hook.id,
    });
    expect(view.webhook.includeSchemaChanges).toBe(false);
    const updated = await owner.ok(
      `mutation($id: ID!) { updateWebhook(input: { id: $id, includeSchemaChanges: true }) { webhook { includeSchemaChanges } } }`,
      { id: hook.id },
    );
    expect(updated.updateWebhook.webhook.includeSchemaChanges).toBe(true);
    await quiet.close();
  });

  it("a bad cursor is BAD_USER_INPUT", async () => {
    expect(firstError(await owner.raw(FEED, { after: "x" }))).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "after",
    });
    expect(firstError(await owner.raw(FEED, { after: "999999" }))).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "after",
    });
  });
});

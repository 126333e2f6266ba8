import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorCode, gql, gqlOk } from "../helpers/graphql.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { headCursor } from "../helpers/subscriptions.ts";
import { createContact, createWebhook, eventually } from "./ops.ts";
import { Receiver } from "./receiver.ts";

let server: TestServer;
let r: Receiver;
let hookId: string;
beforeAll(async () => {
  server = await startServer({ PLUGBOARD_WEBHOOK_ALLOW_PRIVATE: "true" });
  r = await Receiver.start();
  const hook = await createWebhook(server.graphqlUrl, server.owner.token, {
    url: r.url,
    filter: { types: ["contact"] },
  });
  r.secrets = [hook.secret];
  hookId = hook.id;
  for (const name of ["One", "Two", "Three"])
    await createContact(server.graphqlUrl, server.owner.token, { name });
  await r.waitFor(3);
});
afterAll(async () => {
  await server?.close();
  await r?.close();
});

const REPLAY = `mutation($id: ID!, $after: String!) {
  replayWebhook(input: { id: $id, after: $after }) { webhook { id } } }`;
const DELIVERIES = `query($id: ID!, $after: String, $first: Int) { webhook(id: $id) {
  deliveries(first: $first, after: $after) { nodes { id changeId } pageInfo { endCursor hasNextPage } } } }`;

describe("replayWebhook(after:)", () => {
  it("refuses a cursor past the head, naming the head", async () => {
    const head = await headCursor(server.graphqlUrl, server.owner.token);
    const ahead = String(Number(head) + 5);
    const result = await gql(
      server.graphqlUrl,
      REPLAY,
      { id: hookId, after: ahead },
      { token: server.owner.token },
    );
    expect(errorCode(result)).toBe("BAD_USER_INPUT");
    expect(result.errors?.[0]?.extensions).toMatchObject({ field: "after", headCursor: head });
    expect(result.errors?.[0]?.message).toBe(
      `after "${ahead}" is past the newest change "${head}" of this workspace; use headCursor.`,
    );
  });

  it.each([["abc"], ["-1"], [""], ["1.5"]])("refuses the forged cursor %j", async (after) => {
    const result = await gql(server.graphqlUrl, REPLAY, { id: hookId, after }, { token: server.owner.token });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "after" });
  });

  it("accepts the head and replays from an id it delivered", async () => {
    const head = await headCursor(server.graphqlUrl, server.owner.token);
    await gqlOk(server.graphqlUrl, REPLAY, { id: hookId, after: head }, { token: server.owner.token });
    const second = r.received[1]?.payload.data.id as string;
    await gqlOk(server.graphqlUrl, REPLAY, { id: hookId, after: second }, { token: server.owner.token });
    await r.waitFor(4);
    expect(r.received[3]?.payload.data.id).toBe(r.received[2]?.payload.data.id);
  });
});

describe("Webhook.deliveries(after:)", () => {
  it("pages with its own cursors", async () => {
    const all = await eventually(
      () =>
        gqlOk<{ webhook: { deliveries: { nodes: { id: string }[] } } }>(
          server.graphqlUrl,
          DELIVERIES,
          { id: hookId, first: 100 },
          { token: server.owner.token },
        ),
      (data) => data.webhook.deliveries.nodes.length === 3,
    );
    const first = await gqlOk<{ webhook: { deliveries: { pageInfo: { endCursor: string } } } }>(
      server.graphqlUrl,
      DELIVERIES,
      { id: hookId, first: 1 },
      { token: server.owner.token },
    );
    const rest = await gqlOk<{ webhook: { deliveries: { nodes: { id: string }[] } } }>(
      server.graphqlUrl,
      DELIVERIES,
      { id: hookId, first: 10, after: first.webhook.deliveries.pageInfo.endCursor },
      { token: server.owner.token },
    );
    expect(rest.webhook.deliveries.nodes).toEqual(all.webhook.deliveries.nodes.slice(1));
  });

  it.each([["garbage"], ["dlv_\u0000"], [""], ["whk_01jd"], [`dlv_${"z".repeat(200)}`]])(
    "refuses the forged cursor %j",
    async (after) => {
      const result = await gql(
        server.graphqlUrl,
        DELIVERIES,
        { id: hookId, first: 10, after },
        { token: server.owner.token },
      );
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "after" });
    },
  );
});

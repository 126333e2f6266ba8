import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Data, firstError } from "../helpers/api.ts";
import { gql, gqlOk } from "../helpers/graphql.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import {
  headCursor,
  memberWithKey,
  subscribeWs,
  until,
  type WsSubscription,
} from "../helpers/subscriptions.ts";
import { CREATE_WEBHOOK, createWebhook } from "../webhooks/ops.ts";
import { Receiver } from "../webhooks/receiver.ts";

/**
 * Every part of ChangeFilter on the three delivery paths — the feed, a graphql-ws subscription and a
 * webhook with a real receiver — over one script of writes, each path giving the same changes;
 * and a VIEWER who cannot read a field is refused on all three when a filter names it.
 */
let server: TestServer;
let other: { memberId: string; keyId: string; token: string };
let viewer: { memberId: string; keyId: string; token: string };
const receivers: Receiver[] = [];
beforeAll(async () => {
  server = await startServer({ PLUGBOARD_WEBHOOK_ALLOW_PRIVATE: "true" });
  other = await memberWithKey(server.graphqlUrl, server.owner.token, "MEMBER");
  viewer = await memberWithKey(server.graphqlUrl, server.owner.token, "VIEWER");
  await gqlOk(
    server.graphqlUrl,
    `mutation { setFieldAccess(input: { resourceType: "contact", field: "email", role: VIEWER, access: NONE }) { field { key } } }`,
    {},
    { token: server.owner.token },
  );
});
afterAll(async () => {
  await server?.close();
  await Promise.all(receivers.map((r) => r.close()));
});

const FEED = `query($after: String, $filter: ChangeFilter) {
  changes(after: $after, first: 1000, filter: $filter) { nodes { id kind origin snapshot } } }`;

async function write(token: string, query: string, variables: Data, origin?: string): Promise<Data> {
  const headers: Record<string, string> = origin ? { "x-plugboard-origin": origin } : {};
  return gqlOk<Data>(server.graphqlUrl, query, variables, { token, headers });
}
const CREATE = `mutation($type: String!, $values: JSON) { createResource(input: { type: $type, values: $values }) { resource { id } } }`;
const UPDATE = `mutation($id: ID!, $values: JSON) { updateResource(input: { id: $id, values: $values }) { resource { id } } }`;

/** The script: who writes what, with which origin. Labels are `<kind>:<name>`. */
async function runScript(): Promise<void> {
  const owner = server.owner.token;
  const a = (await write(owner, CREATE, { type: "contact", values: { name: "A", title: "Engineer" } }))
    .createResource.resource.id;
  await write(owner, UPDATE, { id: a, values: { title: "CTO" } });
  const b = (
    await write(other.token, CREATE, { type: "contact", values: { name: "B", title: "CTO" } }, "zap")
  ).createResource.resource.id;
  await write(other.token, UPDATE, { id: b, values: { email: "b@example.com" } });
  const t = (await write(owner, CREATE, { type: "task", values: { name: "T", status: "todo" } }))
    .createResource.resource.id;
  await write(owner, UPDATE, { id: t, values: { status: "done" } }, "me");
}

const CASES: { name: string; filter: Data; expected: string[] }[] = [
  {
    name: "where on the snapshot",
    filter: { types: ["contact"], where: { field: "title", eq: "CTO" } },
    expected: ["UPDATED:A", "CREATED:B", "UPDATED:B"],
  },
  {
    name: "transitions (became done)",
    filter: { transitions: [{ field: "status", to: "done" }] },
    expected: ["UPDATED:T"],
  },
  {
    name: "transitions from null (created with a title)",
    filter: { transitions: [{ field: "title", from: null }] },
    expected: ["CREATED:A", "CREATED:B"],
  },
  {
    name: "excludeSelf (the owner's API key)",
    filter: { excludeSelf: true },
    expected: ["CREATED:B", "UPDATED:B"],
  },
  {
    name: "excludeActors",
    filter: { excludeActors: { credentialIds: ["$otherKey"] } },
    expected: ["CREATED:A", "UPDATED:A", "CREATED:T", "UPDATED:T"],
  },
  { name: "origins", filter: { origins: ["zap"] }, expected: ["CREATED:B"] },
  {
    name: "excludeOrigins",
    filter: { excludeOrigins: ["zap", "me"] },
    expected: ["CREATED:A", "UPDATED:A", "UPDATED:B", "CREATED:T"],
  },
];

const label = (kind: string, snapshot: Data) => `${kind}:${snapshot.name}`;
const withIds = (filter: Data) => JSON.parse(JSON.stringify(filter).replaceAll("$otherKey", other.keyId));

describe("ChangeFilter on the feed, graphql-ws and webhooks", () => {
  it("gives the same changes on all three paths for every filter", async () => {
    const owner = server.owner.token;
    const start = await headCursor(server.graphqlUrl, owner);
    const paths: { subscription: WsSubscription; receiver: Receiver }[] = [];
    for (const { filter } of CASES) {
      const subscription = subscribeWs(server.wsUrl, owner, { filter: withIds(filter) });
      const receiver = await Receiver.start();
      receivers.push(receiver);
      const hook = await createWebhook(server.graphqlUrl, owner, {
        url: receiver.url,
        filter: withIds(filter),
      });
      receiver.secrets = [hook.secret];
      paths.push({ subscription, receiver });
    }
    await new Promise((resolve) => setTimeout(resolve, 300)); // subscriptions start at the head
    await runScript();

    for (const [i, { name, filter, expected }] of CASES.entries()) {
      const { subscription, receiver } = paths[i] as (typeof paths)[number];
      const feed = (
        await gqlOk<Data>(
          server.graphqlUrl,
          FEED,
          { after: start, filter: withIds(filter) },
          { token: owner },
        )
      ).changes.nodes;
      expect(
        feed.map((c: Data) => label(c.kind, c.snapshot)),
        `${name}: feed`,
      ).toEqual(expected);
      await subscription.waitFor(expected.length);
      await receiver.waitFor(expected.length);
      // Whatever else was going to arrive has had time to.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(
        subscription.received.map((c) => label(c.kind, c.snapshot)),
        `${name}: subscription`,
      ).toEqual(expected);
      expect(
        receiver.received.map((r) => label(String(r.payload.data.kind), r.payload.data.snapshot)),
        `${name}: webhook`,
      ).toEqual(expected);
      expect(receiver.received.map((r) => r.payload.data.id)).toEqual(feed.map((c: Data) => c.id));
      await subscription.dispose();
    }
  });

  it("shows the origin on the change, in the feed and the webhook payload", async () => {
    const owner = server.owner.token;
    const start = await headCursor(server.graphqlUrl, owner);
    const receiver = await Receiver.start();
    receivers.push(receiver);
    const hook = await createWebhook(server.graphqlUrl, owner, {
      url: receiver.url,
      filter: { origins: ["sync-1"] },
    });
    receiver.secrets = [hook.secret];
    await write(owner, CREATE, { type: "task", values: { name: "from sync" } }, "sync-1");
    const [change] = (await gqlOk<Data>(server.graphqlUrl, FEED, { after: start }, { token: owner })).changes
      .nodes;
    expect(change.origin).toBe("sync-1");
    await receiver.waitFor(1);
    const [delivered] = receiver.received;
    expect(delivered?.payload.data.origin).toBe("sync-1");
  });

  it("refuses a bad X-Plugboard-Origin with 400 and writes nothing", async () => {
    const owner = server.owner.token;
    const start = await headCursor(server.graphqlUrl, owner);
    for (const origin of ["x".repeat(201), "tab\there"]) {
      const result = await gql(
        server.graphqlUrl,
        CREATE,
        { type: "task", values: { name: "never" } },
        { token: owner, headers: { "x-plugboard-origin": origin } },
      );
      expect(result.status).toBe(400);
      expect(firstError(result)).toMatchObject({ code: "BAD_USER_INPUT", field: "X-Plugboard-Origin" });
    }
    expect(await headCursor(server.graphqlUrl, owner)).toBe(start);
  });

  it("takes the origin as a mutation argument too, over the header; a bad one writes nothing", async () => {
    const owner = server.owner.token;
    const start = await headCursor(server.graphqlUrl, owner);
    const WITH_ORIGIN = `mutation($id: ID!, $origin: String) {
      updateResource(input: { id: $id, values: { name: "renamed" }, origin: $origin }) { resource { id } } }`;
    const created = (await write(owner, CREATE, { type: "task", values: { name: "labelled" } }))
      .createResource;
    await write(owner, WITH_ORIGIN, { id: created.resource.id, origin: "argument" }, "header");
    const refused = await gql(
      server.graphqlUrl,
      WITH_ORIGIN,
      { id: created.resource.id, origin: "tab\there" },
      { token: owner },
    );
    expect(firstError(refused)).toMatchObject({ code: "BAD_USER_INPUT", field: "origin" });
    const nodes = (await gqlOk<Data>(server.graphqlUrl, FEED, { after: start }, { token: owner })).changes
      .nodes;
    expect(nodes.map((n: Data) => [n.kind, n.origin])).toEqual([
      ["CREATED", null],
      ["UPDATED", "argument"],
    ]);
  });

  const HIDDEN: [string, Data][] = [
    ["where", { where: { field: "email", eq: "b@example.com" } }],
    ["transitions", { transitions: [{ field: "email", to: "b@example.com" }] }],
    ["fields", { fields: ["email"] }],
    [
      "where inside or",
      {
        where: {
          or: [
            { field: "name", eq: "B" },
            { field: "email", isNull: false },
          ],
        },
      },
    ],
  ];
  for (const [name, filter] of HIDDEN) {
    it(`refuses a VIEWER's ${name} filter on a field hidden from them, on all three paths`, async () => {
      const feed = await gql(server.graphqlUrl, FEED, { filter }, { token: viewer.token });
      expect(firstError(feed).code).toBe("BAD_USER_INPUT");
      expect(JSON.stringify(feed.errors)).toContain("email");

      const subscription = subscribeWs(server.wsUrl, viewer.token, { filter });
      await until(() => subscription.errors.length > 0 || subscription.completed(), "the refusal");
      expect(JSON.stringify(subscription.errors)).toContain("BAD_USER_INPUT");
      expect(JSON.stringify(subscription.errors)).toContain("email");
      expect(subscription.received).toEqual([]);
      await subscription.dispose();

      const webhook = await gql(
        server.graphqlUrl,
        CREATE_WEBHOOK,
        { input: { url: "http://127.0.0.1:9/hook", filter } },
        { token: viewer.token },
      );
      expect(firstError(webhook).code).toBe("BAD_USER_INPUT");
      expect(JSON.stringify(webhook.errors)).toContain("email");
    });
  }

  it("a value filter whose field goes out of sight matches nothing from then on (subscription and webhook)", async () => {
    const member = await memberWithKey(server.graphqlUrl, server.owner.token, "MEMBER");
    const filter = { types: ["account"], where: { field: "domain", eq: "https://secret.example" } };
    const subscription = subscribeWs(server.wsUrl, member.token, { filter });
    const receiver = await Receiver.start();
    receivers.push(receiver);
    const hook = await createWebhook(server.graphqlUrl, member.token, { url: receiver.url, filter });
    receiver.secrets = [hook.secret];
    await new Promise((resolve) => setTimeout(resolve, 300));
    const owner = server.owner.token;
    const secret = { type: "account", values: { name: "S", domain: "https://secret.example" } };
    await write(owner, CREATE, secret);
    await subscription.waitFor(1);
    await receiver.waitFor(1);
    await gqlOk(
      server.graphqlUrl,
      `mutation { setFieldAccess(input: { resourceType: "account", field: "domain", role: MEMBER, access: NONE }) { field { key } } }`,
      {},
      { token: owner },
    );
    await write(owner, CREATE, secret);
    await write(owner, CREATE, { type: "account", values: { name: "marker" } });
    // The owner's own stream sees both; the member's see neither (a hidden value decides nothing).
    const all = subscribeWs(server.wsUrl, owner, {
      after: String(Number(await headCursor(server.graphqlUrl, owner)) - 2),
      filter: { types: ["account"] },
    });
    await all.waitFor(2);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(subscription.received).toHaveLength(1);
    expect(receiver.received).toHaveLength(1);
    await Promise.all([subscription.dispose(), all.dispose()]);
  });

  it("a polling loop that labels its writes sees none of them and every other write", async () => {
    const owner = server.owner.token;
    let after = await headCursor(server.graphqlUrl, owner);
    const mine = new Set<string>();
    const theirs = new Set<string>();
    const seen: string[] = [];
    const poll = async () => {
      const page = (
        await gqlOk<Data>(
          server.graphqlUrl,
          `query($after: String, $filter: ChangeFilter) { changes(after: $after, first: 3, filter: $filter) {
            nodes { resourceId origin } pageInfo { endCursor } } }`,
          { after, filter: { excludeOrigins: ["me"] } },
          { token: owner, headers: { "x-plugboard-origin": "me" } },
        )
      ).changes;
      for (const node of page.nodes) seen.push(node.resourceId);
      after = page.pageInfo.endCursor;
    };
    for (let i = 0; i < 8; i++) {
      const [own, others] = await Promise.all([
        write(owner, CREATE, { type: "task", values: { name: `mine ${i}` } }, "me"),
        write(
          other.token,
          CREATE,
          { type: "task", values: { name: `theirs ${i}` } },
          i % 2 ? "zap" : undefined,
        ),
      ]);
      mine.add(own.createResource.resource.id);
      theirs.add(others.createResource.resource.id);
      await poll();
    }
    // Catch up: numbering follows commits, so the last writes may appear a moment later.
    const deadline = Date.now() + 5_000;
    while (new Set(seen).size < theirs.size && Date.now() < deadline) {
      await poll();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (let i = 0; i < 3; i++) await poll();
    expect(seen.filter((id) => mine.has(id))).toEqual([]);
    expect(new Set(seen)).toEqual(theirs);
    expect(seen).toHaveLength(theirs.size);
  });
});

import { getIntrospectionQuery } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, api, createResource, memberApi } from "../helpers/api.ts";
import { gql } from "../helpers/graphql.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { subscribeWsQuery } from "./helpers.ts";

let server: TestServer;
let owner: Api;
let viewer: Api;

/** The reported attack (nested lists that exhausted memory in 93 s), within the depth cap. */
const NESTED_TYPES = `{ resourceTypes { fields { resourceType { fields { resourceType { fields { resourceType { fields { id key name type } } } } } } } } }`;
const ALIASED_SCHEMA = `{ ${Array.from(
  { length: 50 },
  (_, i) => `s${i}: __schema { types { name fields { name args { name type { name } } type { name } } } }`,
).join(" ")} }`;
const ALIASED_PAGES = `{ ${Array.from(
  { length: 50 },
  (_, i) =>
    `p${i}: resources(type: "contact", first: 500) { nodes { id name values linked(field: "accounts", first: 50) { nodes { id name } } } }`,
).join(" ")} }`;
/** Three full introspections in one request (graphql-js itself refuses deeper introspection). */
const fullIntrospection = getIntrospectionQuery({ descriptions: true });
const TRIPLE_INTROSPECTION = `{ a: __schema { types { ...FullType } } b: __schema { types { ...FullType } } c: __schema { types { ...FullType } } }
${fullIntrospection.slice(fullIntrospection.indexOf("fragment FullType"))}`;

beforeAll(async () => {
  server = await startServer();
  owner = api(server, server.owner.token);
  viewer = await memberApi(server, owner, "VIEWER");
  const account = await createResource(owner, "account", { name: "Acme" });
  for (let i = 0; i < 3; i++)
    await createResource(owner, "contact", { name: `C${i}`, accounts: [account.id] });
});
afterAll(async () => server?.close());

/**
 * A refused operation: 400, BAD_USER_INPUT naming the limit, and nothing executed: no `data` key at
 * all (an operation that ran has `data`, null at worst).
 */
async function expectRefused(query: string, token: string | null, limitKind: RegExp) {
  const result = await gql(server.graphqlUrl, query, {}, { token });
  expect(result.status).toBe(400);
  expect(result.data).toBeUndefined();
  const error = result.errors?.[0];
  expect(error?.extensions?.code).toBe("BAD_USER_INPUT");
  expect(error?.message).toMatch(limitKind);
  expect(error?.extensions?.limit).toEqual(expect.any(Number));
  return error;
}

describe("query limits refuse the reported attacks before execution", () => {
  it("nested lists from a VIEWER: 400 with extensions.cost over extensions.limit", async () => {
    const error = await expectRefused(NESTED_TYPES, viewer.token, /cost/);
    expect(error?.extensions?.cost as number).toBeGreaterThan(error?.extensions?.limit as number);
  });

  it("alias-flooded __schema without a credential", async () => {
    await expectRefused(ALIASED_SCHEMA, null, /Aliases limit/);
  });

  it("repeated introspection without a credential is over the anonymous cap", async () => {
    const error = await expectRefused(TRIPLE_INTROSPECTION, null, /cost/);
    expect(error?.message).toMatch(/Without a credential/);
  });

  it("50 aliases of resources(first: 500) with linked(first: 50)", async () => {
    await expectRefused(ALIASED_PAGES, owner.token, /Aliases limit/);
    // Under the alias cap, the same pages are still over the cost cap.
    const fifteen = ALIASED_PAGES.split(" p").slice(0, 16).join(" p").concat(" }");
    await expectRefused(fifteen, owner.token, /cost/);
  });

  it("too deep, too many root fields, directives or tokens", async () => {
    await expectRefused(
      `{ resources(type: "contact") { nodes { linked(field: "accounts") { nodes { linked(field: "accounts") { nodes { linked(field: "accounts") { nodes { linked(field: "accounts") { nodes { id } } } } } } } } } } }`,
      owner.token,
      /depth/,
    );
    const roots = Array.from({ length: 20 }, (_, i) => `v${i}: viewer { member { id } }`);
    await expectRefused(`{ ${roots.join(" ")} apiKeys { id } members { id } }`, owner.token, /root fields/);
    await expectRefused(
      `{ viewer { member { ${"id @include(if: true) ".repeat(25)} } } }`,
      owner.token,
      /Directives limit/,
    );
    await expectRefused(`{ viewer { member { ${"id ".repeat(30_000)} } } }`, owner.token, /20000 tokens/);
  });

  it("subscriptions over WebSocket and SSE are capped too", async () => {
    const costly = `subscription { changes { resource { linked(field: "accounts", first: 500) { nodes { linked(field: "accounts", first: 500) { nodes { id } } } } } } }`;
    const deep = `subscription { changes { resource { linked(field: "accounts") { nodes { linked(field: "accounts") { nodes { linked(field: "accounts") { nodes { linked(field: "accounts") { nodes { id } } } } } } } } } } }`;
    expect(JSON.stringify(await subscribeWsQuery(server.wsUrl, owner.token, costly))).toMatch(/cost/);
    expect(JSON.stringify(await subscribeWsQuery(server.wsUrl, owner.token, deep))).toMatch(/depth limit/);
    const sse = await fetch(server.graphqlUrl, {
      method: "POST",
      headers: {
        accept: "text/event-stream",
        "content-type": "application/json",
        authorization: `Bearer ${owner.token}`,
      },
      body: JSON.stringify({ query: costly }),
    });
    const text = await sse.text(); // the stream ends after the error
    expect(text).toMatch(/BAD_USER_INPUT/);
    expect(text).toMatch(/cost/);
  });

  it("memory stays flat while 20 attack queries arrive at once", async () => {
    global.gc?.();
    const before = process.memoryUsage().rss;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        gql(
          server.graphqlUrl,
          i % 2 ? NESTED_TYPES : ALIASED_SCHEMA,
          {},
          { token: i % 2 ? viewer.token : null },
        ),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(400));
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
  });
});

describe("ordinary connector traffic is never refused", () => {
  it("the full introspection query, with and without a credential", async () => {
    const query = getIntrospectionQuery({
      descriptions: true,
      inputValueDeprecation: true,
      specifiedByUrl: true,
    });
    for (const token of [owner.token, null]) {
      const result = await gql(server.graphqlUrl, query, {}, { token });
      expect(result.status).toBe(200);
      expect(result.errors).toBeUndefined();
    }
  });

  it("the README's examples and a page of 500 with linked(first: 10)", async () => {
    await owner.ok(`{ resourceTypes { key name fields { id key name type editable required unique options referenceType { key } }
      capabilities { create update delete copy link assign move } updatedAt } }`);
    await owner.ok(`{ resources(type: "contact", where: { or: [{ field: "name", eq: "C1" }, { field: "name", startsWith: "C" }] }, first: 50) {
      totalCount edges { cursor node { id name values linked(field: "accounts") { nodes { name } } } } pageInfo { hasNextPage endCursor } } }`);
    await owner.ok(`{ changes(first: 1000) { nodes { id kind resourceType resourceId fields { key previousValue value } snapshot }
      pageInfo { endCursor hasNextPage } headCursor } }`);
    const page = await viewer.ok(
      `query($n: Int) { resources(type: "contact", first: $n) { nodes { id name values version createdAt updatedAt
        assignee { id email } linked(field: "accounts", first: 10) { nodes { id name values } } } pageInfo { hasNextPage endCursor } } }`,
      { n: 500 },
    );
    expect(page.resources.nodes).toHaveLength(3);
  });
});

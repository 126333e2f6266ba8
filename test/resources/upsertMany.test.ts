import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, api, firstError, memberApi } from "../helpers/api.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
let owner: Api;
beforeAll(async () => {
  server = await startServer();
  owner = api(server, server.owner.token);
  await owner.ok(
    `mutation { createResourceType(input: { key: "product", name: "Product" }) { resourceType { key } } }`,
  );
  await owner.ok(
    `mutation { createField(input: { resourceType: "product", key: "sku", name: "SKU", type: TEXT, unique: true }) { field { key } } }`,
  );
  await owner.ok(
    `mutation { createField(input: { resourceType: "product", key: "price", name: "Price", type: NUMBER }) { field { key } } }`,
  );
});
afterAll(() => server?.close());

const UPSERT = `mutation($matchOn: [String!]!, $items: [JSON!]!, $key: String) {
  upsertResources(input: { type: "product", matchOn: $matchOn, items: $items, idempotencyKey: $key }) {
    results { created resource { id name values } } } }`;
const head = async () =>
  (await owner.ok("{ changes(first: 0) { headCursor } }")).changes.headCursor as string;
const count = async () =>
  (await owner.ok(`{ resources(type: "product") { totalCount } }`)).resources.totalCount;

describe("upsertResources", () => {
  it("creates and updates by a unique field in one call, each write a change", async () => {
    const before = await head();
    const first = await owner.ok(UPSERT, {
      matchOn: "sku",
      items: [
        { sku: "A-1", name: "Anvil", price: 10 },
        { sku: "B-2", name: "Bolt", price: 1 },
      ],
    });
    expect(first.upsertResources.results.map((r: { created: boolean }) => r.created)).toEqual([true, true]);
    const second = await owner.ok(UPSERT, {
      matchOn: "sku",
      items: [
        { sku: "A-1", price: 12 },
        { sku: "C-3", name: "Clamp" },
        { sku: "C-3", price: 5 },
      ],
    });
    const results = second.upsertResources.results;
    expect(results.map((r: { created: boolean }) => r.created)).toEqual([false, true, false]);
    expect(results[0].resource).toMatchObject({
      id: first.upsertResources.results[0].resource.id,
      name: "Anvil",
    });
    expect(results[0].resource.values.price).toBe(12);
    expect(results[2].resource.id).toBe(results[1].resource.id);
    expect(results[2].resource.values).toMatchObject({ name: "Clamp", price: 5 });
    const changes = await owner.ok(
      `query($after: String) { changes(after: $after) { nodes { kind resourceId } } }`,
      {
        after: before,
      },
    );
    expect(changes.changes.nodes.map((c: { kind: string }) => c.kind)).toEqual([
      "CREATED",
      "CREATED",
      "UPDATED",
      "CREATED",
      "UPDATED",
    ]);
  });

  it('matches on "id": items with an id update, items without create', async () => {
    const [anvil] = (await owner.ok(UPSERT, { matchOn: "sku", items: [{ sku: "A-1" }] })).upsertResources
      .results;
    const data = await owner.ok(UPSERT, {
      matchOn: ["id"],
      items: [
        { id: anvil.resource.id, price: 99 },
        { name: "Drill", sku: "D-4" },
      ],
    });
    expect(data.upsertResources.results.map((r: { created: boolean }) => r.created)).toEqual([false, true]);
    expect(data.upsertResources.results[0].resource.values.price).toBe(99);
  });

  it("a bad item fails the call naming its index and field, and writes nothing", async () => {
    const before = [await head(), await count()];
    const cases: [unknown[], string, string][] = [
      [[{ sku: "E-5" }, { sku: "F-6", price: "cheap" }], "sku", "items[1].price"],
      [[{ sku: "E-5" }, { price: 3 }], "sku", "items[1].sku"],
      [[{ sku: "E-5" }, { sku: "G-7", bogus: 1 }], "sku", "items[1].bogus"],
      [[{ name: "x" }, { id: "res_doesnotexist" }], "id", "items[1].id"],
      [[{ sku: "E-5" }], "price", "matchOn"],
      [[{ sku: "E-5" }, 7], "sku", "items[1]"],
      [Array.from({ length: 101 }, (_, i) => ({ sku: `Z-${i}` })), "sku", "items"],
    ];
    for (const [items, matchOn, field] of cases) {
      const result = await owner.raw(UPSERT, { matchOn, items });
      expect(firstError(result), field).toMatchObject({ code: "BAD_USER_INPUT", field });
    }
    expect([await head(), await count()]).toEqual(before);
  });

  it("an idempotencyKey replays the first results without writing again; a VIEWER is refused", async () => {
    const items = [{ sku: "H-8", name: "Hammer" }];
    const first = await owner.ok(UPSERT, { matchOn: "sku", items, key: "upsert-h8" });
    const mark = await head();
    const again = await owner.ok(UPSERT, { matchOn: "sku", items, key: "upsert-h8" });
    expect(again).toEqual(first);
    expect(again.upsertResources.results[0].created).toBe(true);
    expect(await head()).toBe(mark);
    const viewer = await memberApi(server, owner, "VIEWER");
    expect(firstError(await viewer.raw(UPSERT, { matchOn: "sku", items }))).toMatchObject({
      code: "FORBIDDEN",
    });
  });
});

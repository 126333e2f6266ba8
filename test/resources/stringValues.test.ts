import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/kernel/index.ts";
import { type Api, api, createResource, type Data, UPDATE } from "../helpers/api.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

// `eq` on a string field reads `resource_string_values` (src/ledger/tables.ts), kept by triggers on
// `resources`: whatever writes a row, the listing finds exactly the rows whose value equals.

let server: TestServer;
let owner: Api;

const LIST = `query($where: ResourceFilter, $match: JSON, $orderBy: [ResourceOrder!], $first: Int, $after: String, $last: Int, $before: String) {
  resources(type: "contact", where: $where, match: $match, orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
    nodes { id } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`;

async function ids(variables: Data): Promise<string[]> {
  const data = await owner.ok(LIST, variables);
  return data.resources.nodes.map((n: Data) => n.id);
}

/** Every id a listing pages through, `size` at a time, forwards (first/after) or backwards. */
async function pageThrough(variables: Data, size: number, backward: boolean): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | null = null;
  for (;;) {
    const page: Data = await owner.ok(
      LIST,
      backward ? { ...variables, last: size, before: cursor } : { ...variables, first: size, after: cursor },
    );
    const nodes = page.resources.nodes.map((n: Data) => n.id);
    if (backward) seen.unshift(...nodes);
    else seen.push(...nodes);
    const more = backward ? page.resources.pageInfo.hasPreviousPage : page.resources.pageInfo.hasNextPage;
    if (!more) return seen;
    cursor = backward ? page.resources.pageInfo.startCursor : page.resources.pageInfo.endCursor;
  }
}

/** The strings the lookup keeps for resource `id`, sorted. */
async function lookupRows(id: string): Promise<string[]> {
  const rows = await queryRows<{ value: string }>(
    server.database.db,
    sql`select value from resource_string_values where resource_id = ${id} order by value`,
  );
  return rows.map((r) => r.value);
}

beforeAll(async () => {
  server = await startServer();
  owner = api(server, server.owner.token);
  await owner.ok(
    `mutation { createField(input: { resourceType: "contact", key: "tier", name: "Tier", type: TEXT }) { field { id } } }`,
  );
});
afterAll(() => server?.close());

describe("eq on a string field", () => {
  it("follows every write: create, update, delete, restore, and a field cleared", async () => {
    const ada = await createResource(owner, "contact", {
      name: "Ada",
      email: "ada@example.com",
      tier: "gold",
    });
    const byEmail = (email: string) => ids({ where: { field: "email", eq: email } });
    expect(await byEmail("ada@example.com")).toEqual([ada.id]);

    await owner.ok(UPDATE, { id: ada.id, values: { email: "ada@lovelace.org" } });
    expect(await byEmail("ada@example.com")).toEqual([]);
    expect(await byEmail("ada@lovelace.org")).toEqual([ada.id]);
    // The old string is gone from the lookup, the unchanged one kept.
    expect(await lookupRows(ada.id)).toEqual(["ada@lovelace.org", "gold"]);

    await owner.ok(`mutation($id: ID!) { deleteResource(input: { id: $id }) { deletedId } }`, {
      id: ada.id,
    });
    expect(await byEmail("ada@lovelace.org")).toEqual([]);
    await owner.ok(`mutation($id: ID!) { restoreResource(input: { id: $id }) { resource { id } } }`, {
      id: ada.id,
    });
    expect(await byEmail("ada@lovelace.org")).toEqual([ada.id]);

    await owner.ok(UPDATE, { id: ada.id, values: { tier: null } });
    expect(await ids({ where: { field: "tier", eq: "gold" } })).toEqual([]);
    expect(await lookupRows(ada.id)).toEqual(["ada@lovelace.org"]);
  });

  it("tells apart long values that share their first 256 characters", async () => {
    const prefix = "x".repeat(300);
    const a = await createResource(owner, "contact", { name: "Long A", tier: `${prefix}a` });
    const b = await createResource(owner, "contact", { name: "Long B", tier: `${prefix}b` });
    expect(await ids({ where: { field: "tier", eq: `${prefix}a` } })).toEqual([a.id]);
    expect(await ids({ where: { field: "tier", eq: `${prefix}b` } })).toEqual([b.id]);
    expect(await ids({ where: { field: "tier", eq: prefix } })).toEqual([]);
    // Changed past the prefix: the shared lookup row stays, the listing still rechecks the value.
    await owner.ok(UPDATE, { id: a.id, values: { tier: `${prefix}c` } });
    expect(await ids({ where: { field: "tier", eq: `${prefix}a` } })).toEqual([]);
    expect(await ids({ where: { field: "tier", eq: `${prefix}c` } })).toEqual([a.id]);
    expect(await lookupRows(a.id)).toEqual(["x".repeat(256)]);
  });

  it("pages through a value many rows share, in every direction, as the unindexed filter does", async () => {
    const made = await owner.ok(
      `mutation($input: CreateResourcesInput!) { createResources(input: $input) { resources { id name } } }`,
      {
        input: {
          type: "contact",
          items: Array.from({ length: 60 }, (_, i) => ({
            values: { name: `Silver ${i}`, tier: i % 3 === 0 ? "bronze" : "silver" },
          })),
        },
      },
    );
    const rows: { id: string; name: string }[] = made.createResources.resources;
    const silver = rows
      .filter((_, i) => i % 3 !== 0)
      .map((r) => r.id)
      .sort();
    expect(silver).toHaveLength(40);
    const eq = { where: { field: "tier", eq: "silver" } };
    // The same rows through `or`, which the lookup does not serve.
    const viaOr = { where: { or: [{ field: "tier", eq: "silver" }] } };
    const descending = { orderBy: [{ field: "id", direction: "DESC" }] };
    for (const backward of [false, true]) {
      expect(await pageThrough(eq, 7, backward)).toEqual(silver);
      expect(await pageThrough(viaOr, 7, backward)).toEqual(silver);
      expect(await pageThrough({ ...eq, ...descending }, 9, backward)).toEqual([...silver].reverse());
      expect(await pageThrough({ match: { tier: "silver" } }, 11, backward)).toEqual(silver);
    }
    // With another condition, and in another order: the same rows.
    const named = {
      and: [
        { field: "tier", eq: "silver" },
        { field: "name", startsWith: "Silver 1" },
      ],
    };
    const silverOnes = rows
      .filter((r, i) => i % 3 !== 0 && r.name.startsWith("Silver 1"))
      .map((r) => r.id)
      .sort();
    expect(await ids({ where: named, first: 100 })).toEqual(silverOnes);
    const byName = await ids({ ...eq, first: 100, orderBy: [{ field: "name" }] });
    expect([...byName].sort()).toEqual(silver);
  });

  it("finds no other workspace's rows", async () => {
    const other = await server.createTenant("Other");
    const theirs = api(server, other.token);
    await theirs.ok(
      `mutation { createField(input: { resourceType: "contact", key: "tier", name: "Tier", type: TEXT }) { field { id } } }`,
    );
    const mine = await createResource(owner, "contact", { name: "Mine", email: "shared@example.com" });
    const yours = await createResource(theirs, "contact", { name: "Yours", email: "shared@example.com" });
    expect(await ids({ where: { field: "email", eq: "shared@example.com" } })).toEqual([mine.id]);
    const seen = await theirs.ok(LIST, { where: { field: "email", eq: "shared@example.com" } });
    expect(seen.resources.nodes.map((n: Data) => n.id)).toEqual([yours.id]);
  });

  it("keeps the lookup of a bulk insert and a hard delete", async () => {
    const { workspaceId } = server.owner;
    await server.database.db.execute(sql`insert into resources (id, workspace_id, type_id, name, values)
      select 'res_bulk' || g, ${workspaceId},
        (select id from resource_types where workspace_id = ${workspaceId} and key = 'contact'),
        'Bulk ' || g,
        jsonb_build_object((select id from fields where workspace_id = ${workspaceId} and key = 'tier'), 'bulk')
      from generate_series(1, 25) g`);
    expect(await ids({ where: { field: "tier", eq: "bulk" }, first: 100 })).toHaveLength(25);
    await server.database.db.execute(sql`delete from resources where id like 'res_bulk%'`);
    const left = await queryRows(
      server.database.db,
      sql`select count(*)::int as n from resource_string_values where resource_id like 'res_bulk%'`,
    );
    expect(left).toEqual([{ n: 0 }]);
  });
});

import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Actor } from "../../src/auth/actor.ts";
import { queryRows } from "../../src/kernel/db.ts";
import { AppError } from "../../src/kernel/errors.ts";
import type { ChangeRecord } from "../../src/ledger/feed.ts";
import { type ChangeFilter, resolveChangeFilter } from "../../src/ledger/filter.ts";
import { jsonContains, jsonEqual } from "../../src/ledger/predicate.ts";
import type { Catalog } from "../../src/metadata/catalog.ts";
import { type Api, api, createResource, UPDATE } from "../helpers/api.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

/**
 * One filter, two compilations: for every case the SQL form (run by the database over the stored
 * change rows) and the in-memory form (run over the same rows read back) pick the same changes.
 */
let server: TestServer;
let owner: Api;
let actor: Actor;
let catalog: Catalog;
let records: ChangeRecord[];

beforeAll(async () => {
  server = await startServer();
  owner = api(server, server.owner.token);
  await owner.ok(
    `mutation { createField(input: { resourceType: "task", key: "amount", name: "Amount", type: NUMBER }) { field { id } } }`,
  );
  await owner.ok(
    `mutation { createField(input: { resourceType: "task", key: "labels", name: "Labels", type: MULTI_SELECT, options: ["red", "green", "blue"] }) { field { id } } }`,
  );
  await owner.ok(
    `mutation { createField(input: { resourceType: "task", key: "meta", name: "Meta", type: JSON }) { field { id } } }`,
  );
  const t1 = await createResource(owner, "task", { name: "Write docs", status: "todo", amount: 5 });
  await owner.ok(UPDATE, { id: t1.id, values: { status: "doing", amount: 12.5, labels: ["red", "blue"] } });
  await owner.ok(UPDATE, { id: t1.id, values: { status: "done", meta: { a: { b: 1 }, c: [1, 2] } } });
  const t2 = await createResource(owner, "task", {
    name: "ünïcode Zebra",
    status: "done",
    dueDate: "2026-03-01",
  });
  await owner.ok(UPDATE, { id: t2.id, values: { status: "todo", amount: -3 } });
  await createResource(owner, "task", { name: "empty" });
  const c1 = await createResource(owner, "contact", {
    name: "Ada",
    title: "Engineer",
    email: "ada@example.com",
  });
  await owner.ok(UPDATE, { id: c1.id, values: { title: "CTO" } });
  await owner.ok(`mutation($id: ID!) { deleteResource(input: { id: $id }) { deletedId } }`, { id: c1.id });
  await createResource(owner, "account", { name: "Acme", industry: "Retail" });
  // A change with an origin and one by another actor, written straight through the write path's table.
  await server.database.db.execute(
    sql`update changes set origin = 'zap' where seq = (select max(seq) from changes where resource_type_key = 'task')`,
  );
  // Writes do not wait for their changes' numbers; reading the feed does (numbers them first).
  await owner.ok("{ changes(first: 0) { headCursor } }");
  actor = await server.app.services.auth.authenticateToken(server.owner.token);
  catalog = await server.app.services.catalogs.get(server.owner.workspaceId);
  records = await queryRows<ChangeRecord>(
    server.database.db,
    sql`select * from changes c where c.workspace_id = ${server.owner.workspaceId} and c.seq is not null order by c.seq`,
  );
});
afterAll(() => server?.close());

async function bothWays(filter: ChangeFilter): Promise<{ sql: string[]; memory: string[] }> {
  const resolved = resolveChangeFilter(catalog, actor, filter);
  const rows = await queryRows<{ seq: string | number }>(
    server.database.db,
    sql`select c.seq from changes c where c.workspace_id = ${server.owner.workspaceId} and c.seq is not null
          and ${resolved.sql} order by c.seq`,
  );
  return {
    sql: rows.map((r) => String(r.seq)),
    memory: records.filter((r) => resolved.matches(r)).map((r) => String(r.seq)),
  };
}

const CASES: [string, ChangeFilter][] = [
  ["no filter", {}],
  ["types and kinds", { types: ["task"], kinds: ["UPDATED"] }],
  ["changed fields", { fields: ["status", "title"] }],
  ["where eq select", { where: { field: "status", eq: "done" } }],
  ["where ne (nulls match)", { types: ["task"], where: { field: "status", ne: "done" } }],
  ["where in", { where: { field: "status", in: ["todo", "doing"] } }],
  ["where notIn", { types: ["task"], where: { field: "status", notIn: ["todo"] } }],
  ["where number gt", { where: { field: "amount", gt: 4 } }],
  ["where number lte negative", { where: { field: "amount", lte: 0 } }],
  ["where date gte", { where: { field: "dueDate", gte: "2026-01-01" } }],
  ["where text lt (code points)", { where: { field: "name", lt: "Z" } }],
  ["where text contains, case-blind", { where: { field: "name", contains: "ZEB" } }],
  ["where startsWith", { where: { field: "name", startsWith: "wri" } }],
  ["where isNull", { types: ["task"], where: { field: "amount", isNull: true } }],
  ["where isNull false", { where: { field: "amount", isNull: false } }],
  ["where array contains", { where: { field: "labels", contains: ["blue"] } }],
  ["where array eq (exact)", { where: { field: "labels", eq: ["red", "blue"] } }],
  ["where JSON contains", { where: { field: "meta", contains: { a: { b: 1 } } } }],
  ["where JSON eq, keys in any order", { where: { field: "meta", eq: { c: [1, 2], a: { b: 1 } } } }],
  ["where id", { where: { field: "id", ne: "res_nonexistent" } }],
  ["where on a key two types share", { where: { field: "name", eq: "Ada" } }],
  [
    "where and/or/not",
    { where: { or: [{ field: "status", eq: "done" }, { not: { field: "amount", gt: 0 } }] } },
  ],
  ["transition to", { transitions: [{ field: "status", to: "done" }] }],
  ["transition from and to", { transitions: [{ field: "status", from: "todo", to: "doing" }] }],
  ["transition from null (created)", { transitions: [{ field: "status", from: null }] }],
  ["transition to null", { transitions: [{ field: "amount", to: null }] }],
  ["transition array exact", { transitions: [{ field: "labels", to: ["red", "blue"] }] }],
  ["two transitions", { transitions: [{ field: "status" }, { field: "amount", to: 12.5 }] }],
  ["origins", { origins: ["zap"] }],
  ["excludeOrigins keeps changes without one", { excludeOrigins: ["zap"] }],
  ["excludeSelf (API key)", { excludeSelf: true }],
  ["excludeActors member", { excludeActors: { memberIds: ["$owner"] } }],
  ["excludeActors oauth client (none match)", { excludeActors: { oauthClientIds: ["cli_x"] } }],
  ["resource ids", { resourceIds: ["res_none"] }],
];

describe("a change filter compiles to SQL and to an in-memory predicate that agree", () => {
  it("has changes to filter", () => {
    expect(records.length).toBeGreaterThanOrEqual(10);
  });
  for (const [name, filter] of CASES) {
    it(name, async () => {
      // "$owner": the owner's member id, known once the server has started.
      const withOwner = JSON.parse(JSON.stringify(filter).replaceAll("$owner", server.owner.memberId));
      const { sql: bySql, memory } = await bothWays(withOwner);
      expect(memory).toEqual(bySql);
    });
  }

  it("selects what each filter means", async () => {
    const seqsOf = async (filter: ChangeFilter) => (await bothWays(filter)).sql.length;
    expect(await seqsOf({ where: { field: "status", eq: "done" } })).toBe(2); // t1's last update, t2's creation
    expect(await seqsOf({ transitions: [{ field: "status", to: "done" }] })).toBe(2);
    expect(await seqsOf({ transitions: [{ field: "status", from: "todo", to: "doing" }] })).toBe(1);
    expect(await seqsOf({ origins: ["zap"] })).toBe(1);
    expect(await seqsOf({ excludeSelf: true })).toBe(0);
    expect(await seqsOf({ where: { field: "name", contains: "ZEB" } })).toBe(2);
  });

  it("refuses unknown fields and bad operands, naming the field", () => {
    const refused = (filter: ChangeFilter) => {
      try {
        resolveChangeFilter(catalog, actor, filter);
      } catch (error) {
        if (error instanceof AppError) return [error.code, error.extensions.field, error.message];
        throw error;
      }
      return null;
    };
    expect(refused({ where: { field: "nope", eq: 1 } })).toEqual([
      "BAD_USER_INPUT",
      "nope",
      expect.stringContaining("nope"),
    ]);
    // With no `types`, every readable type is filtered: the message names them all, not one.
    expect(refused({ where: { field: "nope", eq: 1 } })?.[2]).toMatch(
      /none of the filtered types \(.+, .+\)/,
    );
    expect(refused({ transitions: [{ field: "nope" }] })?.slice(0, 2)).toEqual([
      "BAD_USER_INPUT",
      "filter.transitions[0].field",
    ]);
    expect(refused({ where: { field: "status", eq: "nope" } })?.[1]).toBe("status");
    expect(refused({ where: { field: "amount", contains: "x" } })?.[1]).toBe("amount");
    expect(refused({ transitions: [{ field: "status", to: "bogus" }] })?.[1]).toBe(
      "filter.transitions[0].to",
    );
  });

  it("jsonb semantics in memory", () => {
    expect(jsonEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toBe(true);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(jsonContains([1, 2, 3], [3, 1])).toBe(true);
    expect(jsonContains([1, 2], 2)).toBe(true);
    expect(jsonContains({ a: { b: 1, c: 2 } }, { a: { b: 1 } })).toBe(true);
    expect(jsonContains({ a: 1 }, { a: 1, b: 2 })).toBe(false);
  });
});

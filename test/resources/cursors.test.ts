import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, api, createResource, type Data, firstError } from "../helpers/api.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
let owner: Api;
let parentId: string;

const LIST = `query($orderBy: [ResourceOrder!], $first: Int, $after: String, $last: Int, $before: String) {
  resources(type: "contact", orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { name } } pageInfo { hasNextPage endCursor startCursor } } }`;
const names = (data: Data): string[] => data.resources.edges.map((e: Data) => e.node.name);

beforeAll(async () => {
  server = await startServer();
  owner = api(server, server.owner.token);
  for (const [key, type] of [
    ["score", "INTEGER"],
    ["vip", "BOOLEAN"],
    ["born", "DATE"],
  ]) {
    await owner.ok(
      `mutation($key: String!, $type: FieldType!) { createField(input: { resourceType: "contact", key: $key, name: $key, type: $type }) { field { id } } }`,
      { key, type },
    );
  }
  const people = [
    { name: "Ada", score: 90, vip: true, born: "1815-12-10" },
    { name: "Grace", score: 85, vip: false, born: "1906-12-09" },
    { name: "Alan", score: 85, vip: true, born: "1912-06-23" },
    { name: "Edsger", score: 70, born: "1930-05-11" },
    { name: "Barbara", vip: false, born: "1939-11-07" },
    { name: "Donald", score: 99, vip: true },
  ];
  for (const values of people) await createResource(owner, "contact", values);
  parentId = (await createResource(owner, "contact", { name: "Parent" })).id;
  for (const name of ["Kid 1", "Kid 2", "Kid 3"]) {
    const kid = await createResource(owner, "contact", { name });
    await owner.ok(
      `mutation($id: ID!, $p: ID) { moveResource(input: { id: $id, parentId: $p }) { resource { id } } }`,
      { id: kid.id, p: parentId },
    );
  }
});
afterAll(() => server?.close());

/** Every page of a listing, forwards with `first: 2`. */
async function allPages(orderBy: Data): Promise<string[]> {
  const seen: string[] = [];
  let after: string | null = null;
  for (;;) {
    const page: Data = await owner.ok(LIST, { orderBy, first: 2, after });
    seen.push(...names(page));
    if (!page.resources.pageInfo.hasNextPage) return seen;
    after = page.resources.pageInfo.endCursor;
  }
}

/** A cursor the server made, with its sort values rewritten (whatever the cursor's layout). */
function forge(cursor: string, rewrite: (values: unknown[]) => unknown[]): string {
  const decoded = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  const forged = Array.isArray(decoded) ? rewrite(decoded) : { ...decoded, v: rewrite(decoded.v) };
  return Buffer.from(JSON.stringify(forged)).toString("base64url");
}

describe("resource connection cursors", () => {
  it("refuse a cursor made under another orderBy instead of returning an unrelated page", async () => {
    const byName = await owner.ok(LIST, { orderBy: [{ field: "name" }], first: 2 });
    const cursor = byName.resources.pageInfo.endCursor;
    for (const orderBy of [
      [{ field: "score", direction: "DESC" }],
      [{ field: "name", direction: "DESC" }],
      [{ field: "born" }],
      null,
    ]) {
      const result = await owner.raw(LIST, { orderBy, first: 2, after: cursor });
      expect(firstError(result)).toMatchObject({ code: "BAD_USER_INPUT", field: "after" });
      expect(firstError(result).message).toMatch(/cursor of another orderBy/);
      const backward = await owner.raw(LIST, { orderBy, last: 2, before: cursor });
      expect(firstError(backward)).toMatchObject({ code: "BAD_USER_INPUT", field: "before" });
    }
    // Under its own orderBy it goes on where it stopped.
    const next = await owner.ok(LIST, { orderBy: [{ field: "name" }], first: 2, after: cursor });
    expect(names(next)).toEqual(["Barbara", "Donald"]);
  });

  it("page through every sortable kind of value, also a BOOLEAN", async () => {
    for (const orderBy of [
      [{ field: "vip" }, { field: "name" }],
      [{ field: "score", direction: "DESC" }],
      [{ field: "born", direction: "DESC" }, { field: "name" }],
      [{ field: "createdAt" }],
    ]) {
      const whole = names(await owner.ok(LIST, { orderBy, first: 100 }));
      expect(await allPages(orderBy)).toEqual(whole);
    }
  });

  it("refuse forged cursors as BAD_USER_INPUT, never a server error", async () => {
    const firstPage = async (orderBy: Data) =>
      (await owner.ok(LIST, { orderBy, first: 1 })).resources.pageInfo.endCursor as string;
    const byScore = await firstPage([{ field: "score" }]);
    const byName = await firstPage([{ field: "name" }]);
    const byCreated = await firstPage([{ field: "createdAt" }]);
    const cases: [Data, string][] = [
      [null, "!!!"],
      [null, ""],
      [null, "bm90IGpzb24"], // "not json"
      [null, Buffer.from("[1]").toString("base64url")],
      [null, Buffer.from('{"o":1,"v":[]}').toString("base64url")],
      [null, "x".repeat(60_000)],
      [[{ field: "score" }], forge(byScore, ([, id]) => ["abc", id])],
      [[{ field: "score" }], forge(byScore, ([, id]) => [{ x: 1 }, id])],
      [[{ field: "score" }], forge(byScore, ([score]) => [score, 42])],
      [[{ field: "score" }], forge(byScore, ([score]) => [score, "res_\u0000"])],
      [[{ field: "score" }], forge(byScore, ([score]) => [score])],
      [[{ field: "name" }], forge(byName, ([, id]) => ["A\u0000", id])],
      [[{ field: "name" }], forge(byName, ([, id]) => [["Ada"], id])],
      [[{ field: "createdAt" }], forge(byCreated, ([, id]) => ["not a date", id])],
      [[{ field: "createdAt" }], forge(byCreated, ([, id]) => [12, id])],
    ];
    for (const [orderBy, after] of cases) {
      for (const args of [
        { first: 2, after },
        { last: 2, before: after },
      ]) {
        const result = await owner.raw(LIST, { orderBy, ...args });
        expect({ after, error: firstError(result) }).toMatchObject({
          after,
          error: { code: "BAD_USER_INPUT", field: "after" in args ? "after" : "before" },
        });
      }
    }
  });

  it("refuse forged cursors on children and linked connections", async () => {
    const CHILDREN = `query($id: ID!, $after: String) { resource(id: $id) { children(first: 1, after: $after) {
      nodes { name } pageInfo { endCursor } } } }`;
    const first = await owner.ok(CHILDREN, { id: parentId });
    const cursor = first.resource.children.pageInfo.endCursor;
    const second = await owner.ok(CHILDREN, { id: parentId, after: cursor });
    expect(second.resource.children.nodes.map((n: Data) => n.name)).toEqual(["Kid 2"]);
    for (const after of [
      "garbage",
      forge(cursor, () => ["res_\u0000"]),
      forge(cursor, () => [7]),
      forge(cursor, () => ["res_a", "res_b"]),
      Buffer.from("null").toString("base64url"),
    ]) {
      const result = await owner.raw(CHILDREN, { id: parentId, after });
      expect({ after, error: firstError(result) }).toMatchObject({
        after,
        error: { code: "BAD_USER_INPUT", field: "after" },
      });
    }
    const LINKED = `query($id: ID!, $after: String) { resource(id: $id) {
      linked(field: "accounts", after: $after) { nodes { name } } } }`;
    for (const after of ["garbage", "res_\u0000", ""]) {
      const result = await owner.raw(LINKED, { id: parentId, after });
      expect(firstError(result)).toMatchObject({ code: "BAD_USER_INPUT", field: "after" });
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, api, createResource, type Data, firstError, memberApi } from "../helpers/api.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
/** Every statement the server sends (the "runs nothing" test reads those of one request). */
const sent: string[] = [];
let owner: Api;
const LIST = `query($where: ResourceFilter, $match: JSON, $orderBy: [ResourceOrder!], $first: Int, $after: String, $last: Int, $before: String) {
  resources(type: "contact", where: $where, match: $match, orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { name } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  } }`;
const names = (data: Data) => data.resources.edges.map((e: Data) => e.node.name);

beforeAll(async () => {
  server = await startServer({}, { onQuery: (query) => sent.push(query) });
  owner = api(server, server.owner.token);
  await owner.ok(
    `mutation { createField(input: { resourceType: "contact", key: "score", name: "Score", type: INTEGER }) { field { id } } }`,
  );
  await owner.ok(
    `mutation { createField(input: { resourceType: "contact", key: "vip", name: "VIP", type: BOOLEAN }) { field { id } } }`,
  );
  await owner.ok(
    `mutation { createField(input: { resourceType: "contact", key: "tags", name: "Tags", type: MULTI_SELECT, options: ["a", "b", "c"] }) { field { id } } }`,
  );
  await owner.ok(
    `mutation { createField(input: { resourceType: "contact", key: "born", name: "Born", type: DATE }) { field { id } } }`,
  );
  const acme = await createResource(owner, "account", { name: "Acme" });
  const people = [
    {
      name: "Ada",
      email: "ada@example.com",
      score: 90,
      vip: true,
      tags: ["a", "b"],
      born: "1815-12-10",
      accounts: [acme.id],
    },
    { name: "Grace", email: "grace@navy.mil", score: 85, vip: false, tags: ["b"], born: "1906-12-09" },
    { name: "Alan", email: "alan@example.com", score: 85, tags: ["c"], born: "1912-06-23", title: "Dr" },
    { name: "Edsger", email: "edsger@example.nl", score: 70, born: "1930-05-11" },
    { name: "Barbara", email: "barbara@example.com", born: "1939-11-07" },
  ];
  for (const values of people) await createResource(owner, "contact", values);
});
afterAll(() => server?.close());

describe("resources(type, where, match, orderBy)", () => {
  it("filters with every operator on system, built-in and custom fields", async () => {
    const cases: [Data, string[]][] = [
      [{ field: "email", eq: "ada@example.com" }, ["Ada"]],
      [{ field: "email", ne: "ada@example.com" }, ["Alan", "Barbara", "Edsger", "Grace"]],
      [{ field: "name", in: ["Ada", "Alan"] }, ["Ada", "Alan"]],
      [{ field: "score", notIn: [85] }, ["Ada", "Barbara", "Edsger"]],
      [{ field: "score", gt: 85 }, ["Ada"]],
      [{ field: "score", gte: 85 }, ["Ada", "Alan", "Grace"]],
      [{ field: "score", lt: 85 }, ["Edsger"]],
      [{ field: "born", lte: "1906-12-09" }, ["Ada", "Grace"]],
      [{ field: "email", contains: "EXAMPLE.com" }, ["Ada", "Alan", "Barbara"]],
      [{ field: "name", startsWith: "a" }, ["Ada", "Alan"]],
      [{ field: "score", isNull: true }, ["Barbara"]],
      [{ field: "title", isNull: false }, ["Alan"]],
      [{ field: "vip", eq: true }, ["Ada"]],
      [{ field: "tags", contains: "b" }, ["Ada", "Grace"]],
      [{ field: "tags", contains: ["a", "b"] }, ["Ada"]],
      [{ field: "accounts", isNull: false }, ["Ada"]],
      [{ field: "createdBy", eq: server.owner.memberId }, ["Ada", "Alan", "Barbara", "Edsger", "Grace"]],
      [
        {
          or: [
            { field: "name", eq: "Ada" },
            { and: [{ field: "score", eq: 85 }, { not: { field: "name", eq: "Alan" } }] },
          ],
        },
        ["Ada", "Grace"],
      ],
    ];
    for (const [where, expected] of cases) {
      const data = await owner.ok(LIST, { where, orderBy: [{ field: "name" }] });
      expect(names(data), JSON.stringify(where)).toEqual(expected);
    }
    const match = await owner.ok(LIST, { match: { score: 85, title: "Dr" } });
    expect(names(match)).toEqual(["Alan"]);
  });

  it("pages with keyset cursors for any orderBy, forwards and backwards", async () => {
    const orderBy = [{ field: "score", direction: "DESC" }, { field: "name" }];
    const all = names(await owner.ok(LIST, { orderBy, first: 50 }));
    expect(all).toEqual(["Barbara", "Ada", "Alan", "Grace", "Edsger"]); // DESC puts empty scores first
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: Data = await owner.ok(LIST, { orderBy, first: 2, after });
      seen.push(...names(page));
      if (!page.resources.pageInfo.hasNextPage) break;
      after = page.resources.pageInfo.endCursor;
    }
    expect(seen).toEqual(all);
    const last = await owner.ok(LIST, { orderBy, last: 2 });
    expect(names(last)).toEqual(["Grace", "Edsger"]);
    const before = await owner.ok(LIST, { orderBy, last: 2, before: last.resources.pageInfo.startCursor });
    expect(names(before)).toEqual(["Ada", "Alan"]);
    const count = await owner.ok(
      `{ resources(type: "contact", where: { field: "score", gte: 85 }) { totalCount } }`,
    );
    expect(count.resources.totalCount).toBe(3);
  });

  it("refuses bad filters with BAD_USER_INPUT naming the field, and runs nothing", async () => {
    const deep: Data = { field: "name", eq: "x" };
    let nested: Data = deep;
    for (let i = 0; i < 50; i++) nested = { and: [nested] };
    const cases: [Data, string][] = [
      [{ where: { field: "nope", eq: 1 } }, "nope"],
      [{ where: { field: "vip", gt: true } }, "vip"],
      [{ where: { field: "email", eq: "not-an-email" } }, "email"],
      [{ where: { field: "score", eq: "many" } }, "score"],
      [{ where: { field: "name", eq: "x", ne: "y" } }, "where.field"],
      [{ where: { field: "name' OR 1=1 --", eq: "x" } }, "name' OR 1=1 --"],
      [{ where: nested }, "where"],
      [{ first: 100000 }, "first"],
      [{ after: "garbage" }, "after"],
      [{ orderBy: [{ field: "tags" }] }, "orderBy"],
    ];
    // A refused listing reads no resources: the input is checked before any query is built.
    const withStatements = async <T>(request: () => Promise<T>): Promise<[T, string[]]> => {
      sent.length = 0;
      const result = await request();
      return [result, sent.filter((query) => /\bresources\b/.test(query))];
    };
    expect((await withStatements(() => owner.ok(LIST, {})))[1]).not.toEqual([]);
    for (const [variables, field] of cases) {
      const label = JSON.stringify(variables).slice(0, 80);
      const [result, statements] = await withStatements(() => owner.raw(LIST, variables));
      expect(firstError(result), label).toMatchObject({ code: "BAD_USER_INPUT", field });
      expect(statements, label).toEqual([]);
    }
    const [unknownType, statements] = await withStatements(() =>
      owner.raw(`{ resources(type: "ghost") { totalCount } }`),
    );
    expect(firstError(unknownType)).toMatchObject({ code: "BAD_USER_INPUT", field: "type" });
    expect(statements).toEqual([]);
  });

  it("does not let hidden fields be filtered, sorted or seen", async () => {
    await owner.ok(
      `mutation { setFieldAccess(input: { resourceType: "contact", field: "score", role: VIEWER, access: NONE }) { field { key } } }`,
    );
    const viewer = await memberApi(server, owner, "VIEWER");
    expect(firstError(await viewer.raw(LIST, { where: { field: "score", gt: 1 } }))).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "score",
    });
    expect(firstError(await viewer.raw(LIST, { orderBy: [{ field: "score" }] }))).toMatchObject({
      code: "BAD_USER_INPUT",
    });
    const values = await viewer.ok(`{ resources(type: "contact") { nodes { values } } }`);
    for (const node of values.resources.nodes) expect(node.values).not.toHaveProperty("score");
  });

  it("loads a page of 50 with parent, assignee and linked accounts in a constant number of statements", async () => {
    const account = await createResource(owner, "account", { name: "Parent Co" });
    const items = Array.from({ length: 50 }, (_, i) => ({
      values: { name: `Bulk ${i}`, accounts: [account.id], assignee: server.owner.memberId },
    }));
    await owner.ok(
      `mutation($items: [CreateResourcesItem!]!) { createResources(input: { type: "contact", items: $items }) { resources { id } } }`,
      { items },
    );
    const QUERY = `query($first: Int) { resources(type: "contact", where: { field: "name", startsWith: "Bulk" }, first: $first) {
      nodes { name values parent { name } assignee { email } createdBy { email } linked(field: "accounts") { nodes { name } } } } }`;
    // Background loops (webhook worker, sequencer sweep) query on their own clocks: pause them.
    await server.app.services.webhookWorker.stop();
    await server.app.services.sequencer.stop();
    const count = async (first: number) => {
      await owner.ok(QUERY, { first }); // warm the catalog cache
      const before = server.statements();
      const data = await owner.ok(QUERY, { first });
      expect(data.resources.nodes).toHaveLength(first);
      return server.statements() - before;
    };
    const small = await count(5);
    const large = await count(50);
    expect(large).toBe(small);
    expect(large).toBeLessThanOrEqual(4);
  });

  it("reads an unfiltered page and the rows its selected links point to in one statement", async () => {
    const account = await createResource(owner, "account", { name: "One Trip Co" });
    await createResource(owner, "contact", { name: "One trip", accounts: [account.id] });
    await server.app.services.webhookWorker.stop();
    await server.app.services.sequencer.stop();
    // Plain, through edges, through a named fragment with the key in a variable: each one statement.
    const queries = [
      `{ resources(type: "contact", orderBy: [{ field: "createdAt", direction: DESC }], first: 1) { nodes { name linked(field: "accounts") { nodes { name } } } } }`,
      `{ resources(type: "contact", orderBy: [{ field: "createdAt", direction: DESC }], first: 1) { edges { node { name linked(field: "accounts") { nodes { name } } } } } }`,
      `query($key: String!) { resources(type: "contact", orderBy: [{ field: "createdAt", direction: DESC }], first: 1) { nodes { ...Links } } }
       fragment Links on Resource { name linked(field: $key) { nodes { name } } }`,
    ];
    for (const query of queries) {
      await owner.ok(query, { key: "accounts" }); // warm the catalog cache
      sent.length = 0;
      const data = await owner.ok(query, { key: "accounts" });
      const nodes = data.resources.nodes ?? data.resources.edges.map((e: Data) => e.node);
      const linked = nodes.find((n: Data) => n.name === "One trip").linked.nodes;
      expect(
        linked.map((a: Data) => a.name),
        query,
      ).toEqual(["One Trip Co"]);
      expect(
        sent.filter((q) => /\bresources\b/.test(q)),
        query,
      ).toHaveLength(1);
    }
  });

  it("gives each row of a page its own linked resources (one batch per page)", async () => {
    const [north, south] = [
      await createResource(owner, "account", { name: "North" }),
      await createResource(owner, "account", { name: "South" }),
    ];
    const gone = await createResource(owner, "account", { name: "Gone" });
    await createResource(owner, "contact", { name: "Links both", accounts: [south.id, north.id] });
    await createResource(owner, "contact", { name: "Links north", accounts: [north.id, gone.id] });
    await createResource(owner, "contact", { name: "Links none" });
    await owner.ok(`mutation($id: ID!) { deleteResource(input: { id: $id }) { deletedId } }`, {
      id: gone.id,
    });
    const data = await owner.ok(
      `{ resources(type: "contact", where: { field: "name", startsWith: "Links" }, orderBy: [{ field: "name" }]) {
          nodes { name linked(field: "accounts") { totalCount nodes { name } } } } }`,
    );
    expect(
      data.resources.nodes.map(
        (n: { name: string; linked: { totalCount: number; nodes: { name: string }[] } }) => [
          n.name,
          n.linked.totalCount,
          n.linked.nodes.map((a) => a.name),
        ],
      ),
    ).toEqual([
      ["Links both", 2, ["South", "North"]],
      ["Links none", 0, []],
      ["Links north", 1, ["North"]],
    ]);
  });
});

import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/kernel/logger.ts";
import { type App, buildApp } from "../../src/server/app.ts";
import { type Api, api, createResource, type Data, memberApi } from "../helpers/api.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { openSocket } from "../helpers/subscriptions.ts";

/**
 * A list read PostgreSQL renders (resources/renderedReads.ts) answers exactly what the resolvers
 * answer. Every document below goes to two apps on one database — one rendering reads, one with
 * PLUGBOARD_RENDERED_READS=false — as each actor, and the two responses must be equal, errors and
 * all. The documents cover what the renderer takes (aliases, __typename, values of every kind,
 * links with first, cursors both ways, orders, filters planned once and per execution) and what
 * it must leave to the resolvers; the actors see different things (hidden fields, a name they
 * may not read on linked rows, no READ scope).
 */

let server: TestServer;
let plain: App;
let plainUrl: string;
let owner: Api;
const actors: Record<string, string> = {};
/** While set, the statements the server sends. */
let captured: string[] | null = null;

const post = async (
  url: string,
  token: string,
  query: string,
  variables: Record<string, unknown>,
  operationName?: string,
) => {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables, operationName }),
  });
  return { status: response.status, body: JSON.parse(await response.text()) as Data };
};

/** Both apps' answers to one request, and whether the rendering app rendered it. */
async function both(
  token: string,
  query: string,
  variables: Record<string, unknown> = {},
  operationName?: string,
) {
  captured = [];
  const rendered = await post(server.graphqlUrl, token, query, variables, operationName);
  const sent = captured;
  captured = null;
  const resolved = await post(plainUrl, token, query, variables, operationName);
  return { rendered, resolved, didRender: sent.some((text) => text.includes("concat_ws(chr(1)")) };
}

const fieldAccess = (resourceType: string, field: string, role: string, access: string) =>
  owner.ok(
    `mutation($t: String!, $f: String!, $r: Role!, $a: Access!) {
      setFieldAccess(input: { resourceType: $t, field: $f, role: $r, access: $a }) { field { key } } }`,
    { t: resourceType, f: field, r: role, a: access },
  );

let acmeId: string;
let initechId: string;
let cursor: string;

beforeAll(async () => {
  server = await startServer({}, { onQuery: (text) => captured?.push(text) });
  plain = buildApp({
    database: server.database,
    env: { ...server.env, PLUGBOARD_RENDERED_READS: false },
    logger: createLogger("silent"),
  });
  await new Promise<void>((resolve) => plain.server.listen(0, "127.0.0.1", resolve));
  plainUrl = `http://127.0.0.1:${(plain.server.address() as AddressInfo).port}/graphql`;
  owner = api(server, server.owner.token);
  actors.owner = owner.token;
  actors.viewer = (await memberApi(server, owner, "VIEWER")).token;
  actors.member = (await memberApi(server, owner, "MEMBER")).token;
  actors.writeOnly = (await memberApi(server, owner, "MEMBER", ["WRITE"])).token;

  await owner.ok(`mutation($input: CreateFieldInput!) { createField(input: $input) { field { id } } }`, {
    input: { resourceType: "contact", key: "profile", name: "Profile", type: "JSON" },
  });
  await owner.ok(`mutation($input: CreateFieldInput!) { createField(input: $input) { field { id } } }`, {
    input: { resourceType: "contact", key: "score", name: "Score", type: "NUMBER" },
  });
  // The viewer may not read accounts' names (linked rows show null) nor contacts' profiles.
  await fieldAccess("account", "name", "VIEWER", "NONE");
  await fieldAccess("contact", "profile", "VIEWER", "NONE");

  const acme = await createResource(owner, "account", { name: "Acme" });
  acmeId = acme.id;
  const initech = await createResource(owner, "account", { name: 'Initech "quoted" \\ \u0001 ünï' });
  initechId = initech.id;
  const gone = await createResource(owner, "account", { name: "Gone" });
  const parent = await createResource(owner, "contact", { name: "Parent", email: "p@example.com" });
  for (let i = 1; i <= 7; i++) {
    await createResource(owner, "contact", {
      name: i === 3 ? null : `Contact ${i} \u2028 "${i}"`,
      email: `c${i}@example.com`,
      score: i === 5 ? 1e21 : i * 1.5,
      profile: i === 2 ? { nested: { list: [1, "two", null, true] }, tab: "\t" } : null,
      accounts: i % 2 ? [acme.id, initech.id, acme.id, gone.id] : [initech.id],
      ...(i === 2 ? { parent: parent.id } : {}),
    });
  }
  await owner.ok(`mutation($id: ID!) { deleteResource(input: { id: $id }) { deletedId } }`, { id: gone.id });
  const page = await owner.ok(`{ resources(type: "contact", first: 3) { pageInfo { endCursor } } }`);
  cursor = page.resources.pageInfo.endCursor;
});
afterAll(async () => {
  await plain?.close();
  await server?.close();
});

const NODE = `id name typeKey version createdAt updatedAt __typename
  email: value(field: "email") score: value(field: "score") profile: value(field: "profile")
  parentId: value(field: "parent") created: value(field: "createdAt")
  linked(field: "accounts") { __typename nodes { id name typeKey __typename version createdAt updatedAt } }
  firstAccount: linked(field: "accounts", first: 1) { nodes { name } }
  none: linked(field: "accounts", first: 0) { nodes { id } }
  typeOnly: linked(field: "accounts") { __typename }
  nodesFirst: linked(field: "accounts") { nodes { id } kind: __typename }`;

/** Documents the renderer answers (for an actor that may read what they show). */
const RENDERED: [string, string, Record<string, unknown>?][] = [
  ["every kind of field", `{ resources(type: "contact") { __typename nodes { ${NODE} } } }`],
  ["aliases", `{ list: resources(type: "contact", first: 2) { items: nodes { key: id label: name } } }`],
  ["first 0", `{ resources(type: "contact", first: 0) { nodes { id } } }`],
  ["after a cursor", `query($c: String) { resources(type: "contact", after: $c) { nodes { id name } } }`],
  ["last/before", `query($c: String) { resources(type: "contact", last: 2, before: $c) { nodes { id } } }`],
  [
    "last alone",
    `{ resources(type: "contact", last: 3) { nodes { id linked(field: "accounts") { nodes { name } } } } }`,
  ],
  [
    "ordered by name, descending",
    `{ resources(type: "contact", orderBy: [{ field: "name", direction: DESC }]) { nodes { id name } } }`,
  ],
  [
    "ordered by a value",
    `{ resources(type: "contact", orderBy: [{ field: "score" }]) { nodes { score: value(field: "score") } } }`,
  ],
  [
    "a string equality (planned once)",
    `query($e: JSON) { resources(type: "contact", where: { field: "email", eq: $e }) { nodes { id linked(field: "accounts") { nodes { name } } } } }`,
    { e: "c3@example.com" },
  ],
  [
    "a filter planned per execution, with links",
    `{ resources(type: "contact", where: { field: "score", gt: 3 }) { nodes { id linked(field: "accounts") { nodes { id name } } } } }`,
  ],
  ["match", `{ resources(type: "contact", match: { email: "c1@example.com" }) { nodes { id name } } }`],
  ["accounts", `query($t: String!) { resources(type: $t) { nodes { name typeKey } } }`, { t: "account" }],
  [
    "pageInfo",
    `{ resources(type: "contact", first: 3) { nodes { id } info: pageInfo { __typename hasNextPage hasPreviousPage startCursor end: endCursor } } }`,
  ],
  [
    "pageInfo after a cursor, before the nodes",
    `query($c: String) { resources(type: "contact", first: 2, after: $c) { pageInfo { endCursor hasNextPage hasPreviousPage startCursor } nodes { id } } }`,
  ],
  [
    "pageInfo of the last page",
    `query($c: String) { resources(type: "contact", first: 50, after: $c) { pageInfo { endCursor hasNextPage } nodes { id } } }`,
  ],
  [
    "pageInfo of last/before",
    `query($c: String) { resources(type: "contact", last: 2, before: $c) { nodes { id } pageInfo { startCursor endCursor hasNextPage hasPreviousPage } } }`,
  ],
  [
    "pageInfo of last alone",
    `{ resources(type: "contact", last: 3) { pageInfo { startCursor endCursor hasNextPage hasPreviousPage } } }`,
  ],
  [
    "pageInfo of a string equality",
    `query($e: JSON) { resources(type: "contact", where: { field: "email", eq: $e }) { nodes { id } pageInfo { startCursor endCursor hasNextPage } } }`,
    { e: "c3@example.com" },
  ],
  [
    "pageInfo of an empty page",
    `{ resources(type: "contact", where: { field: "email", eq: "nobody@example.com" }) { nodes { id } pageInfo { startCursor endCursor hasNextPage hasPreviousPage } } }`,
  ],
  [
    "pageInfo of first 0",
    `query($c: String) { resources(type: "contact", first: 0, after: $c) { pageInfo { startCursor hasNextPage hasPreviousPage } } }`,
  ],
  [
    "pageInfo without cursors, ordered by name",
    `{ resources(type: "contact", first: 2, orderBy: [{ field: "name" }]) { nodes { name } pageInfo { hasNextPage } } }`,
  ],
  [
    "pageInfo ordered by id, descending",
    `{ resources(type: "contact", first: 2, orderBy: [{ field: "id", direction: DESC }]) { nodes { id } pageInfo { endCursor hasNextPage } } }`,
  ],
];

/** Documents the resolvers answer: a shape the renderer does not take, or an error. */
const RESOLVED: [string, string, Record<string, unknown>?][] = [
  [
    "a cursor in another order than the id",
    `{ resources(type: "contact", orderBy: [{ field: "name" }]) { nodes { id } pageInfo { endCursor } } }`,
  ],
  ["totalCount", `{ resources(type: "contact") { nodes { id } totalCount } }`],
  ["edges", `{ resources(type: "contact") { edges { cursor node { id } } } }`],
  [
    "a link's pageInfo",
    `{ resources(type: "contact") { nodes { linked(field: "accounts") { pageInfo { hasNextPage } nodes { id } } } } }`,
  ],
  [
    "pageInfo with an argument-less unknown field",
    `{ resources(type: "contact") { nodes { id } pageInfo { hasNextPage nope } } }`,
  ],
  ["a fragment", `{ resources(type: "contact") { nodes { ...F } } } fragment F on Resource { id }`],
  [
    "a directive",
    `query($s: Boolean!) { resources(type: "contact") { nodes { id @skip(if: $s) } } }`,
    { s: true },
  ],
  ["values", `{ resources(type: "contact") { nodes { values } } }`],
  [
    "a value by variable",
    `query($f: String!) { resources(type: "contact") { nodes { value(field: $f) } } }`,
    { f: "email" },
  ],
  ["an unknown field", `{ resources(type: "contact") { nodes { value(field: "nope") } } }`],
  [
    "linked on a field that is not LINKS",
    `{ resources(type: "contact") { nodes { linked(field: "email") { nodes { id } } } } }`,
  ],
  ["an unknown type", `{ resources(type: "nope") { nodes { id } } }`],
  ["a bad first", `{ resources(type: "contact", first: 501) { nodes { id } } }`],
  ["a bad cursor", `{ resources(type: "contact", after: "nope") { nodes { id } } }`],
  [
    "a bad linked first",
    `{ resources(type: "contact") { nodes { linked(field: "accounts", first: -1) { nodes { id } } } } }`,
  ],
  ["a bad variable", `query($n: Int) { resources(type: "contact", first: $n) { nodes { id } } }`, { n: "x" }],
  [
    "two root fields",
    `{ a: resources(type: "contact") { nodes { id } } b: resources(type: "account") { nodes { id } } }`,
  ],
];

describe("rendered list reads answer as the resolvers do", () => {
  it.each(RENDERED)("%s", async (_name, query, variables = {}) => {
    const withCursor = { c: cursor, ...variables };
    for (const [actor, token] of Object.entries(actors)) {
      const { rendered, resolved, didRender } = await both(token, query, withCursor);
      expect({ actor, ...rendered }).toEqual({ actor, ...resolved });
      // The owner may read all of it; the others are refused what they may not read (resolvers).
      // A page of none needs no statement.
      if (actor === "owner" && !/first: 0[,)]/.test(query)) expect(didRender).toBe(true);
    }
  });

  it.each(RESOLVED)("%s: left to the resolvers", async (_name, query, variables = {}) => {
    for (const [actor, token] of Object.entries(actors)) {
      const { rendered, resolved, didRender } = await both(token, query, variables);
      expect({ actor, ...rendered }).toEqual({ actor, ...resolved });
      expect(didRender).toBe(false);
    }
  });

  it("a viewer's linked rows show null for a name the viewer may not read, as the resolvers do", async () => {
    const query = `{ resources(type: "contact", match: { email: "c1@example.com" }) {
      nodes { linked(field: "accounts") { nodes { id name } } } } }`;
    const { rendered, didRender } = await both(actors.viewer as string, query);
    expect(didRender).toBe(true);
    // Acme, Initech (the write path keeps a link once) and not Gone, which was deleted.
    expect(rendered.body.data.resources.nodes[0].linked.nodes).toEqual([
      { id: acmeId, name: null },
      { id: initechId, name: null },
    ]);
  });

  it("what a node shows follows an access change at once (the statement is kept per catalog and policy)", async () => {
    const query = `{ resources(type: "account", first: 2) { nodes { id name } } }`;
    const names = async () => {
      const { rendered, resolved, didRender } = await both(actors.viewer as string, query);
      expect(rendered).toEqual(resolved);
      expect(didRender).toBe(true);
      return rendered.body.data.resources.nodes.map((n: { name: string | null }) => n.name);
    };
    expect(await names()).toEqual([null, null]);
    // The owner's answer to the same document is kept apart from the viewer's.
    const ownerRead = await both(owner.token, query);
    expect(ownerRead.rendered.body.data.resources.nodes.map((n: { name: string }) => n.name)).toEqual([
      "Acme",
      expect.stringContaining("Initech"),
    ]);
    await fieldAccess("account", "name", "VIEWER", "READ");
    try {
      expect(await names()).toEqual(["Acme", expect.stringContaining("Initech")]);
    } finally {
      await fieldAccess("account", "name", "VIEWER", "NONE");
    }
    expect(await names()).toEqual([null, null]);
  });

  it("a named operation renders under its name; under another, the executor refuses it", async () => {
    const query = `query Contacts { resources(type: "contact") { nodes { id } } }`;
    const named = await both(owner.token, query, {}, "Contacts");
    expect(named.rendered).toEqual(named.resolved);
    expect(named.didRender).toBe(true);
    const other = await both(owner.token, query, {}, "Other");
    expect(other.rendered).toEqual(other.resolved);
    expect(other.rendered.body.errors).toHaveLength(1);
    expect(other.didRender).toBe(false);
  });

  it("a hidden value is an error on both paths, and nothing is rendered", async () => {
    const query = `{ resources(type: "contact") { nodes { value(field: "profile") } } }`;
    const { rendered, resolved, didRender } = await both(actors.viewer as string, query);
    expect(rendered).toEqual(resolved);
    expect(rendered.body.errors[0].extensions.code).toBe("BAD_USER_INPUT");
    expect(didRender).toBe(false);
  });

  it("over a WebSocket and as server-sent events, a rendered read is the same data", async () => {
    const query = `{ resources(type: "contact", first: 3) { nodes { id name linked(field: "accounts") { nodes { name } } } } }`;
    const { rendered, didRender } = await both(owner.token, query);
    expect(didRender).toBe(true);
    const socket = openSocket(server.wsUrl, { authorization: `Bearer ${owner.token}` });
    try {
      expect(await socket.run(query)).toEqual(rendered.body);
    } finally {
      await socket.dispose();
    }
    const response = await fetch(server.graphqlUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "text/event-stream",
        authorization: `Bearer ${owner.token}`,
      },
      body: JSON.stringify({ query }),
    });
    const event = (await response.text()).split("\n").find((line) => line.startsWith("data: {"));
    expect(JSON.parse(event?.slice("data: ".length) ?? "null")).toEqual(rendered.body);
  });
});

describe("a rendered read's statement, kept by shape: each request reads with its own values", () => {
  // One document, many requests: the statement is built once per shape of its holes (the compiled
  // filter, a cursor's keyset, a string equality's lookup) and each request fills in its values.
  // Filters on two TEXT fields (email, nickname) render to the same text (their field ids are parameters), so a kept
  // statement that kept a value or a field id of an earlier request would answer the wrong rows.
  const query = `query($w: ResourceFilter, $m: JSON, $c: String, $n: Int, $o: [ResourceOrder!]) {
    resources(type: "contact", first: $n, after: $c, where: $w, match: $m, orderBy: $o) {
      nodes { id name email: value(field: "email") nickname: value(field: "nickname") }
      pageInfo { endCursor hasNextPage } } }`;

  beforeAll(async () => {
    await owner.ok(`mutation($input: CreateFieldInput!) { createField(input: $input) { field { id } } }`, {
      input: { resourceType: "contact", key: "nickname", name: "Nickname", type: "TEXT" },
    });
    // A nickname equal to another contact's email: a lookup of the wrong field finds the wrong row.
    await createResource(owner, "contact", {
      name: "Titled",
      email: "t1@example.com",
      nickname: "c2@example.com",
    });
    await createResource(owner, "contact", { name: "Titled 2", email: "t2@example.com", nickname: "Boss" });
  });

  const requests: Record<string, unknown>[] = [
    { w: { field: "email", eq: "c1@example.com" } },
    { w: { field: "email", eq: "c2@example.com" } },
    { w: { field: "nickname", eq: "c2@example.com" } },
    { w: { field: "nickname", eq: "Boss" } },
    { w: { field: "email", eq: "c2@example.com" }, n: 1 },
    { w: { field: "email", eq: "nobody@example.com" } },
    { m: { nickname: "Boss" } },
    { m: { email: "c4@example.com" } },
    { w: { field: "email", eq: "c5@example.com" }, m: { nickname: "Boss" } },
    {
      w: {
        and: [
          { field: "email", eq: "c6@example.com" },
          { field: "score", gt: 1 },
        ],
      },
    },
    {
      w: {
        and: [
          { field: "nickname", eq: "Boss" },
          { field: "score", gt: 1 },
        ],
      },
    },
    { w: { field: "score", gt: 3 } },
    { w: { field: "score", gt: 7.5 } },
    { w: { field: "score", gt: 3 }, n: 2 },
    {
      w: {
        or: [
          { field: "email", eq: "c1@example.com" },
          { field: "nickname", eq: "Boss" },
        ],
      },
    },
    { w: { field: "email", eq: "c1@example.com" }, o: [{ field: "id", direction: "DESC" }] },
    { w: { field: "nickname", eq: "Boss" }, o: [{ field: "id", direction: "DESC" }] },
    {},
    { n: 2 },
  ];

  it("every request, by every actor, answers as the resolvers do", async () => {
    for (const [actor, token] of Object.entries(actors)) {
      for (const variables of requests) {
        const { rendered, resolved } = await both(token, query, variables);
        expect({ actor, variables, ...rendered }).toEqual({ actor, variables, ...resolved });
      }
    }
  });

  it("after a cursor, each request's cursor bounds its own page", async () => {
    for (const w of [{ field: "score", gt: 1 }, { field: "score", gt: 4 }, null]) {
      let after: string | null = null;
      const seen: string[] = [];
      do {
        const { rendered, resolved, didRender } = await both(owner.token, query, { w, n: 2, c: after });
        expect(rendered).toEqual(resolved);
        expect(didRender).toBe(true);
        const { nodes, pageInfo } = rendered.body.data.resources;
        seen.push(...nodes.map((n: { id: string }) => n.id));
        after = pageInfo.hasNextPage ? pageInfo.endCursor : null;
      } while (after);
      expect(new Set(seen).size).toBe(seen.length);
    }
  });

  it("a string equality's rows are the value's, by whichever field, on every request", async () => {
    const ids = async (w: unknown) => {
      const { rendered, didRender } = await both(owner.token, query, { w });
      expect(didRender).toBe(true);
      return rendered.body.data.resources.nodes.map((n: { name: string }) => n.name);
    };
    for (let i = 0; i < 2; i++) {
      expect(await ids({ field: "email", eq: "c2@example.com" })).toEqual([
        expect.stringContaining("Contact 2"),
      ]);
      expect(await ids({ field: "nickname", eq: "c2@example.com" })).toEqual(["Titled"]);
    }
  });
});

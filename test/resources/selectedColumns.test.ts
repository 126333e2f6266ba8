import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, api, createResource, type Data } from "../helpers/api.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

// A listing reads the columns its selection shows, and only those (plus what its cursors and links
// need). Whatever it leaves out, every answer must be the one a whole-row read gives.

let server: TestServer;
let owner: Api;
/** While set, the statements the server sends. */
let captured: string[] | null = null;
let acme: Data;

/** The statements one request sends that read `resources` rows. */
async function statementsOf(query: string, variables: Record<string, unknown> = {}) {
  captured = [];
  const data = await owner.ok(query, variables);
  const sent = captured.filter((text) => /from "resources"/.test(text));
  captured = null;
  return { data, sent };
}

beforeAll(async () => {
  // The resolvers' reads (a list the server renders reads as resources/renderedReads.ts says:
  // renderedReads.test.ts holds it to the same answers).
  server = await startServer(
    { PLUGBOARD_RENDERED_READS: "false" },
    { onQuery: (text) => captured?.push(text) },
  );
  owner = api(server, server.owner.token);
  acme = await createResource(owner, "account", { name: "Acme", industry: "Manufacturing" });
  const initech = await createResource(owner, "account", { name: "Initech", industry: "Technology" });
  const parent = await createResource(owner, "contact", { name: "Parent", email: "p@example.com" });
  for (let i = 1; i <= 5; i++) {
    await createResource(owner, "contact", {
      name: i === 3 ? null : `Contact ${i}`,
      email: `c${i}@example.com`,
      accounts: i % 2 ? [acme.id, initech.id] : [initech.id],
      ...(i === 2 ? { parent: parent.id, assignee: server.owner.memberId } : {}),
    });
  }
});
afterAll(() => server?.close());

describe("what a listing reads", () => {
  it("a page of names reads names, not timestamps, versions or values", async () => {
    const { data, sent } = await statementsOf(`{ resources(type: "contact") { nodes { id name } } }`);
    expect(data.resources.nodes).toHaveLength(6);
    expect(sent).toHaveLength(1);
    for (const column of ["created_at", "updated_at", "version", "values", "assignee_id", "parent_id"])
      expect(sent[0]).not.toContain(`"resources"."${column}"`);
    expect(sent[0]).toContain(`"resources"."name"`);
  });

  it("a page with its links' names reads those and the links' ids, no timestamps or versions", async () => {
    const { data, sent } = await statementsOf(
      `{ resources(type: "contact", first: 2) { nodes { name linked(field: "accounts") { nodes { name } } } } }`,
    );
    expect(data.resources.nodes.map((n: Data) => n.linked.nodes.map((l: Data) => l.name))).toEqual([
      [],
      ["Acme", "Initech"],
    ]);
    expect(sent).toHaveLength(1);
    for (const column of ["created_at", "updated_at", "version", "assignee_id"])
      expect(sent[0]).not.toContain(`."${column}"`);
  });

  it("a page of some values reads those keys of each document, not the whole document", async () => {
    const { data, sent } = await statementsOf(
      `{ resources(type: "contact", orderBy: [{ field: "email" }]) {
        nodes { email: value(field: "email") linked(field: "accounts") { nodes { name } } } } }`,
    );
    expect(data.resources.nodes.map((n: Data) => n.email)).toEqual([
      "c1@example.com",
      "c2@example.com",
      "c3@example.com",
      "c4@example.com",
      "c5@example.com",
      "p@example.com",
    ]);
    expect(data.resources.nodes[5].linked.nodes).toEqual([]);
    expect(sent).toHaveLength(1);
    // What the statement returns of each document is its keys (`values -> 'fld_…'`), never the whole
    // of it (the page's own rows keep it inside the statement, for their links' ids).
    const returned = [
      ...(sent[0] as string).matchAll(/\bselect ((?:(?!select).)*?), (?:false|true) from/gs),
    ].map((m) => m[1]);
    expect(returned).toHaveLength(2);
    expect(returned[0]).toMatch(/"page"\."values" -> '/);
    for (const list of returned) expect(list).not.toMatch(/"values"(?! -> ')/);
  });
});

/** Selections of a contact, each answered by a listing and by `resource(id)` (whole rows). */
const SELECTIONS = [
  "id name",
  `email: value(field: "email") createdAt`,
  `created: value(field: "createdAt") assigneeId: value(field: "assignee") parentId: value(field: "parent")`,
  "values version updatedAt",
  "parent { id name } assignee { id } createdBy { id }",
  "typeKey type { key } children { nodes { id } }",
  `linked(field: "accounts") { nodes { id name createdAt version industry: value(field: "industry") } }`,
  `linked(field: "accounts") { nodes { values } } names: linked(field: "accounts") { nodes { name } }`,
  "... on Node { id } ...shown ... on Resource { version }",
  "name @include(if: $yes) createdAt @skip(if: $yes) key: value(field: $key)",
  `linked(field: $links) { nodes { ...shown } }`,
  `email: value(field: "email") linked(field: "accounts") { nodes { industry: value(field: "industry") } }`,
  `email: value(field: "email") all: values`,
  `email: value(field: "email") linked(field: "accounts") { nodes { id } } parent { email: value(field: "email") }`,
];

describe("every selection answers as a whole-row read does", () => {
  for (const selection of SELECTIONS) {
    it(selection, async () => {
      // Only what the selection uses: GraphQL refuses unused variables and fragments.
      const fragment = selection.includes("...shown") ? "fragment shown on Resource { name updatedAt }" : "";
      const types = { yes: "Boolean!", key: "String!", links: "String!" };
      const values = { yes: true, key: "email", links: "accounts" };
      const used = (Object.keys(types) as (keyof typeof types)[]).filter((v) => selection.includes(`$${v}`));
      const variables = Object.fromEntries(used.map((v) => [v, values[v]]));
      const declared = used.map((v) => `, $${v}: ${types[v]}`).join("");
      const listed = await owner.ok(
        `query($first: Int${declared}) { resources(type: "contact", first: $first) { nodes { id ${selection} } } } ${fragment}`,
        variables,
      );
      expect(listed.resources.nodes).toHaveLength(6);
      for (const node of listed.resources.nodes) {
        const alone = await owner.ok(
          `query($id: ID!${declared}) { resource(id: $id) { id ${selection} } } ${fragment}`,
          { ...variables, id: node.id },
        );
        expect(node).toEqual(alone.resource);
      }
    });
  }

  it("cursors of an order the selection does not show still page through every row", async () => {
    for (const orderBy of [
      [{ field: "createdAt", direction: "DESC" }],
      [{ field: "email" }],
      [{ field: "name" }, { field: "updatedAt", direction: "DESC" }],
    ]) {
      const query = `query($orderBy: [ResourceOrder!], $after: String, $first: Int) {
        resources(type: "contact", orderBy: $orderBy, first: $first, after: $after) {
          edges { cursor node { id } } pageInfo { endCursor hasNextPage } } }`;
      const whole = await owner.ok(query, { orderBy, first: 50 });
      const ids: string[] = [];
      let after: string | null = null;
      do {
        const page: Data = await owner.ok(query, { orderBy, first: 2, after });
        ids.push(...page.resources.edges.map((e: Data) => e.node.id));
        after = page.resources.pageInfo.hasNextPage ? page.resources.pageInfo.endCursor : null;
      } while (after);
      expect(ids).toEqual(whole.resources.edges.map((e: Data) => e.node.id));
    }
  });

  // Planned for its filter's value, a page cannot join its links (two statements); a string
  // equality's page is planned once and reads them in its own statement.
  for (const [filter, statements] of [
    [`{ field: "email", startsWith: "c1@example.com" }`, 2],
    [`{ field: "email", eq: "c1@example.com" }`, 1],
  ] as const) {
    it(`a filtered page (${filter}) reads its links' rows with the columns shown, as whole rows would answer`, async () => {
      const { data, sent } = await statementsOf(
        `{ resources(type: "contact", where: ${filter}) {
          nodes { name linked(field: "accounts") { nodes { name createdAt } } } } }`,
      );
      const account = await owner.ok(`query($id: ID!) { resource(id: $id) { name createdAt } }`, {
        id: acme.id,
      });
      expect(data.resources.nodes.map((n: Data) => n.name)).toEqual(["Contact 1"]);
      expect(data.resources.nodes[0].linked.nodes[0]).toEqual(account.resource);
      expect(sent).toHaveLength(statements);
      for (const column of ["updated_at", "version", "assignee_id"])
        for (const text of sent) expect(text).not.toContain(`."${column}"`);
    });
  }

  it("rows read with a page's links do not stand in for whole rows elsewhere in the request", async () => {
    const whole = `id name createdAt updatedAt version values`;
    const alone = await owner.ok(`query($id: ID!) { resource(id: $id) { ${whole} } }`, { id: acme.id });
    const together = await owner.ok(
      `query($id: ID!) {
        resources(type: "contact") { nodes { linked(field: "accounts") { nodes { id name } } } }
        resource(id: $id) { ${whole} }
        node(id: $id) { ... on Resource { ${whole} } } }`,
      { id: acme.id },
    );
    expect(together.resource).toEqual(alone.resource);
    expect(together.node).toEqual(alone.resource);
    expect(together.resources.nodes[1].linked.nodes.map((n: Data) => n.name)).toEqual(["Acme", "Initech"]);
  });
});

import { sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, api } from "../helpers/api.ts";
import { testDbKind } from "../helpers/database.ts";
import { explainAnalyze, planNodes, thePageStatement } from "../helpers/plans.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

// The first page in the default order must not depend on which of the type's indexes happens to be
// a level shallower. Here the contacts' ids arrive in random order (the type's `(workspace_id,
// type_id, id)` index splits pages everywhere and grows a level taller) while their timestamps
// arrive in order (the createdAt and updatedAt indexes stay compact): a plan that believed the page
// had one row (the estimate of a row comparison on `workspace_id`) then read every contact through
// the updatedAt index and sorted them — ~0.7 s a page at 350,000 contacts instead of ~1 ms.
// PostgreSQL only: what matters is the server deployments run.
const ROWS = 350_000;
/** Every contact is a child of this account (`children` lists them across types, by id). */
const PARENT = "res_0parent";

let server: TestServer;
let owner: Api;
let explainer: postgres.Sql;
let captured: { text: string; params: unknown[] }[] | null = null;

const LIST = `query($first: Int, $last: Int) {
  resources(type: "contact", first: $first, last: $last) { nodes { id name } } }`;
const CHILDREN = `query($id: ID!) { resource(id: $id) { children(first: 50) { nodes { id name } } } }`;

describe.skipIf(testDbKind !== "postgres")("pages in id order, with the type's index a level taller", () => {
  beforeAll(async () => {
    server = await startServer(
      {},
      { onQuery: (text, params) => captured?.push({ text, params: params.map((p) => p) }) },
    );
    owner = api(server, server.owner.token);
    const { workspaceId } = server.owner;
    const typeId = (key: string) =>
      sql`(select id from resource_types where workspace_id = ${workspaceId} and key = ${key})`;
    await server.database.db.execute(sql`insert into resources (id, workspace_id, type_id, name)
      values (${PARENT}, ${workspaceId}, ${typeId("account")}, 'Parent')`);
    await server.database.db.execute(sql`insert into resources
        (id, workspace_id, type_id, name, parent_id, created_at, updated_at)
      select 'res_r' || md5(g::text), ${workspaceId}, ${typeId("contact")}, 'Contact ' || g, ${PARENT},
        timestamptz '2026-01-01' + g * interval '1 ms', timestamptz '2026-01-01' + g * interval '1 ms'
      from generate_series(1, ${ROWS}) g order by g`);
    await server.database.db.execute(sql`vacuum analyze resources`);
    explainer = postgres(server.env.DATABASE_URL as string, { max: 1, onnotice: () => {} });
  }, 180_000);
  afterAll(async () => {
    await explainer?.end();
    await server?.close();
  });

  for (const [label, query, variables] of [
    ["the first page", LIST, { first: 50 }],
    ["the last page", LIST, { last: 50 }],
    // Across types, the primary key gives this order: byte-ordered, every child was read and sorted.
    ["a parent's 350,000 children", CHILDREN, { id: PARENT }],
  ] as const) {
    it(`${label}: a range of one index, no sort`, async () => {
      captured = [];
      await owner.ok(query, variables);
      const { text, params } = thePageStatement(captured);
      captured = null;
      const plan = await explainAnalyze(explainer, text, params);
      const all = planNodes(plan);
      expect({ text, nodes: all.map((p) => `${p["Node Type"]} ${p["Index Name"] ?? ""}`) }).toMatchObject({
        nodes: expect.not.arrayContaining([expect.stringMatching(/^(Sort|Incremental Sort|Seq Scan)/)]),
      });
      for (const node of all) expect(node["Actual Rows"], text).toBeLessThanOrEqual(51);
    });
  }
});

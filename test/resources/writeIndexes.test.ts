import { sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Db, queryRows, queryTuples } from "../../src/kernel/db.ts";
import { inRolledBackTransaction, testDbKind } from "../helpers/database.ts";
import { gqlOk } from "../helpers/graphql.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

// A create writes its row and its change row; every index on them is work on every write. Most
// resources have no parent and no assignee, and a change row is written without its number (the
// sequencer numbers it afterwards), so the indexes on those columns hold only rows that have a
// value: a create does not touch them, and the reads that use them (`parent_id = …`, a cursor's
// `seq > …`) still can. PostgreSQL only, like the other page counts (changes/sequencerScans.test.ts).
const SKIPPED_BY_A_CREATE = [
  "resources_parent_idx",
  "resources_assignee_idx",
  "changes_workspace_seq",
  "changes_workspace_time",
];

let server: TestServer;
let reader: postgres.Sql;
let captured: { text: string; params: unknown[] }[] | null = null;

describe.skipIf(testDbKind !== "postgres")("the indexes a create writes", () => {
  beforeAll(async () => {
    server = await startServer({}, { onQuery: (text, params) => captured?.push({ text, params }) });
    reader = postgres(server.env.DATABASE_URL as string, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await reader?.end();
    await server?.close();
  });

  /**
   * Index pages a statement reads or writes: run again with a fresh id, the way the write path runs
   * it, in a transaction rolled back (the counters are the transaction's own).
   */
  async function pagesTouched(
    text: string,
    params: unknown[],
    indexes: string[],
  ): Promise<Record<string, number>> {
    const counters = async (tx: Db) => {
      const rows = await queryRows<{ name: string; pages: number }>(
        tx,
        sql`select name, pg_stat_get_xact_blocks_fetched(name::regclass)::int as pages
            from unnest(${sql.param(indexes)}::text[]) as name`,
      );
      return Object.fromEntries(rows.map((r) => [r.name, r.pages]));
    };
    return inRolledBackTransaction(server.database.db, async (tx) => {
      const before = await counters(tx);
      await queryTuples(tx, { text, params: [`${params[0]}_again`, ...params.slice(1)] }, (row) => row);
      const after = await counters(tx);
      return Object.fromEntries(indexes.map((name) => [name, (after[name] ?? 0) - (before[name] ?? 0)]));
    });
  }

  it("a resource without parent or assignee, and its unnumbered change, skip the indexes on those", async () => {
    captured = [];
    await gqlOk(
      server.graphqlUrl,
      `mutation { createResource(input: { type: "contact", values: { name: "Ada", email: "ada@example.com" } }) { resource { id } } }`,
      {},
      { token: server.owner.token },
    );
    const write = captured.find(({ text }) => /^with written as \(insert into resources/.test(text));
    captured = null;
    expect(write).toBeDefined();
    const { text, params } = write as { text: string; params: unknown[] };
    const touched = await pagesTouched(text, params, [
      "resources_pkey",
      "changes_pkey",
      ...SKIPPED_BY_A_CREATE,
    ]);
    expect(touched.resources_pkey).toBeGreaterThan(0); // the counters count this statement
    expect(touched.changes_pkey).toBeGreaterThan(0);
    expect(
      Object.entries(touched).filter(([name, pages]) => SKIPPED_BY_A_CREATE.includes(name) && pages > 0),
    ).toEqual([]);
  });

  it("the reads those indexes serve still use them, in generic plans", async () => {
    // A generic plan knows no parameter value, so an index is used only if the statement's text
    // proves the index's predicate (`parent_id = $1` implies `parent_id is not null`).
    const plan = async (statement: string, args: string) => {
      await reader`begin`;
      try {
        await reader`set local enable_seqscan = off`;
        await reader`set local plan_cache_mode = force_generic_plan`;
        await reader.unsafe(`prepare probe as ${statement}`);
        const rows = await reader.unsafe(`explain execute probe(${args})`);
        return rows.map((r) => r["QUERY PLAN"]).join("\n");
      } finally {
        await reader`rollback`;
        await reader.unsafe("deallocate probe").catch(() => {}); // a session's, not the transaction's
      }
    };
    const ws = `'${server.owner.workspaceId}'`;
    expect(await plan("select id from resources where parent_id = $1", "'res_x'")).toMatch(
      /resources_parent_idx/,
    );
    expect(
      await plan("select id from resources where assignee_id = any($1::text[])", "array['mem_x']"),
    ).toMatch(/resources_assignee_idx/);
    expect(
      await plan(
        "select id from changes c where c.workspace_id = $1 and c.seq > $2 order by c.seq limit 50",
        `${ws}, 0`,
      ),
    ).toMatch(/Index.* using changes_workspace_(seq|time)/);
    expect(
      await plan(
        "select id from changes c where c.workspace_id = $1 and c.seq = any($2::bigint[])",
        `${ws}, array[1, 2]`,
      ),
    ).toMatch(/Index.* using changes_workspace_(seq|time)/);
    expect(
      await plan(
        `select min(t.seq) from (select c.seq from changes c where c.workspace_id = $1
           and c.occurred_at >= $2::timestamptz and c.seq is not null order by c.occurred_at offset 0) t`,
        `${ws}, '1970-01-01T00:00:00Z'`,
      ),
    ).toMatch(/changes_workspace_time/);
  });
});

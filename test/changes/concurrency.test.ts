import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, queryRows } from "../../src/kernel/db.ts";
import { newId } from "../../src/kernel/ids.ts";
import { commitWrites } from "../../src/ledger/writePath.ts";
import { openDatabase } from "../../src/server/database.ts";
import { api } from "../helpers/api.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

/**
 * docs/architecture.md, invariant 3: a poller passing the last id it saw never misses a change and never sees
 * one twice, however many writers run at once. Writers go through the real write path with random
 * delays inside their transactions and 10% rollbacks; a feed poller with pages of 1–5 runs
 * throughout over HTTP, and a control poller reads the raw log with `id > last` to prove the
 * workload does produce the skips the sequencer prevents.
 */
const onPostgres = process.env.PLUGBOARD_TEST_DB === "postgres";
const WRITERS = onPostgres ? 24 : 4;
const TX_PER_WRITER = onPostgres ? 12 : 6;

let server: TestServer;
let writerDb: Database;
beforeAll(async () => {
  server = await startServer();
  // Writers get their own pool so 24 transactions really are open at once.
  writerDb = onPostgres
    ? await openDatabase({ url: server.env.DATABASE_URL, dataDir: "memory://", maxConnections: WRITERS + 2 })
    : server.database;
});
afterAll(async () => {
  if (onPostgres) await writerDb?.close();
  await server?.close();
});

function rng(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("skip-proof change ids under concurrent writers", () => {
  // Seed 4 polls with a `where` filter on: the predicate runs inside the page's statement, so
  // pages stay exact — every matching change once, in order — though no longer dense.
  for (const [seed, filtered] of [
    [1, false],
    [2, false],
    [3, false],
    [4, true],
  ] as const) {
    const title = filtered
      ? `seed ${seed}, with a where filter: zero missed, zero duplicated, increasing`
      : `seed ${seed}: zero missed, zero duplicated, dense and increasing`;
    it(title, async () => {
      const random = rng(seed);
      const services = server.app.services;
      const catalog = await services.catalogs.get(server.owner.workspaceId);
      const type = catalog.typesByKey.get("task");
      if (!type) throw new Error("no task type");
      const actor = await services.auth.authenticateToken(server.owner.token);
      const owner = api(server, server.owner.token);
      const start = Number((await owner.ok("{ changes(first: 0) { headCursor } }")).changes.headCursor);
      const [{ last: controlStart } = { last: 0 }] = await queryRows<{ last: number }>(
        server.database.db,
        sql`select coalesce(max(id), 0)::bigint as last from changes`,
      );

      const committed = new Set<string>();
      const where = { field: "name", startsWith: "keep" };
      let writing = true;

      const writer = async (w: number) => {
        for (let i = 0; i < TX_PER_WRITER; i++) {
          const id = newId("resource");
          const keep = !filtered || random() < 0.5;
          const rollback = random() < 0.1;
          const before = random() * 15;
          const after = random() * 25;
          try {
            await writerDb.db.transaction(async (tx) => {
              await sleep(before);
              await commitWrites(tx, actor, catalog, [
                {
                  kind: "create",
                  type,
                  id,
                  state: {
                    name: `${keep ? "keep" : "drop"}-w${w}-${i}`,
                    parentId: null,
                    assigneeId: null,
                    values: {},
                  },
                },
              ]);
              await sleep(after);
              if (rollback) throw new Error("rollback");
            });
            if (keep) committed.add(id);
            void services.sequencer.kick(actor.workspaceId);
          } catch (error) {
            if ((error as Error).message !== "rollback") throw error;
          }
        }
      };

      // The feed poller: pages of 1–5 over HTTP, passing the last id it saw.
      const feedSeen: { id: number; resourceId: string }[] = [];
      const feedPoller = async () => {
        let after = String(start);
        for (;;) {
          const stop = !writing;
          const first = 1 + Math.floor(random() * 5);
          const page = (
            await owner.ok(
              `query($after: String, $first: Int, $filter: ChangeFilter) { changes(after: $after, first: $first, filter: $filter) { nodes { id resourceId } pageInfo { endCursor hasNextPage } } }`,
              { after, first, filter: filtered ? { where } : null },
            )
          ).changes;
          for (const node of page.nodes) feedSeen.push({ id: Number(node.id), resourceId: node.resourceId });
          after = page.pageInfo.endCursor ?? after;
          if (stop && !page.pageInfo.hasNextPage && page.nodes.length === 0) {
            await services.sequencer.kick(actor.workspaceId);
            const again = (
              await owner.ok(
                `query($after: String, $filter: ChangeFilter) { changes(after: $after, first: 1000, filter: $filter) { nodes { id resourceId } } }`,
                { after, filter: filtered ? { where } : null },
              )
            ).changes.nodes;
            for (const node of again) feedSeen.push({ id: Number(node.id), resourceId: node.resourceId });
            return;
          }
          if (page.nodes.length === 0) await sleep(2);
        }
      };

      // The control: the raw log's own identity column, `id > last`.
      const controlSeen = new Set<string>();
      const controlPoller = async () => {
        let last = Number(controlStart);
        while (writing) {
          const rows = await queryRows<{ id: number; resource_id: string }>(
            server.database.db,
            sql`select id, resource_id from changes where workspace_id = ${actor.workspaceId} and id > ${last} order by id limit 5`,
          );
          for (const row of rows) {
            controlSeen.add(row.resource_id);
            last = Number(row.id);
          }
          await sleep(1);
        }
      };

      const pollers = [feedPoller(), controlPoller()];
      await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
      // Numbering waits for every older write transaction on the PostgreSQL instance (the xid
      // horizon is instance-wide), and other test files write in parallel: the pollers stop only
      // once this workspace's changes are all numbered.
      for (let waited = 0; ; waited += 20) {
        await services.sequencer.kick(actor.workspaceId);
        const [pending] = await queryRows<{ count: number }>(
          server.database.db,
          sql`select count(*)::int as count from changes where workspace_id = ${actor.workspaceId} and seq is null`,
        );
        if (pending?.count === 0) break;
        if (waited > 20_000) throw new Error(`${pending?.count} changes still unnumbered after 20 s`);
        await sleep(20);
      }
      writing = false;
      await Promise.all(pollers);

      const ids = feedSeen.map((c) => c.id);
      if (filtered)
        expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b)); // increasing, no duplicate
      else expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => start + i + 1)); // dense, increasing, no duplicate
      expect(new Set(feedSeen.map((c) => c.resourceId))).toEqual(committed); // nothing missed, nothing rolled back
      expect(feedSeen).toHaveLength(committed.size);
      expect(committed.size).toBeGreaterThan(0);
      if (onPostgres && !filtered) {
        const missed = [...committed].filter((id) => !controlSeen.has(id));
        expect(missed.length, "the control poller should miss some changes").toBeGreaterThan(0);
      }
    });
  }

  it.skipIf(!onPostgres)(
    "a write transaction held open stalls the feed without losing anything",
    async () => {
      const services = server.app.services;
      const catalog = await services.catalogs.get(server.owner.workspaceId);
      const type = catalog.typesByKey.get("task");
      if (!type) throw new Error("no task type");
      const actor = await services.auth.authenticateToken(server.owner.token);
      const owner = api(server, server.owner.token);
      const start = (await owner.ok("{ changes(first: 0) { headCursor } }")).changes.headCursor;
      let release: () => void = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      const slowId = newId("resource");
      const slow = writerDb.db.transaction(async (tx) => {
        await commitWrites(tx, actor, catalog, [
          {
            kind: "create",
            type,
            id: slowId,
            state: { name: "slow", parentId: null, assigneeId: null, values: {} },
          },
        ]);
        await held;
      });
      await sleep(100);
      const fast = await owner.ok(
        `mutation { createResource(input: { type: "task", values: { name: "fast" } }) { resource { id } } }`,
      );
      await sleep(300);
      const stalled = (
        await owner.ok(`query($after: String) { changes(after: $after) { nodes { resourceId } } }`, {
          after: start,
        })
      ).changes.nodes;
      expect(stalled).toEqual([]); // the fast commit waits behind the open transaction
      release();
      await slow;
      await services.sequencer.kick(actor.workspaceId);
      const after = (
        await owner.ok(`query($after: String) { changes(after: $after) { nodes { resourceId } } }`, {
          after: start,
        })
      ).changes.nodes;
      expect(after.map((n: { resourceId: string }) => n.resourceId).sort()).toEqual(
        [slowId, fast.createResource.resource.id].sort(),
      );
    },
  );
});

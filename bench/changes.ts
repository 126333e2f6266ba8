/**
 * Issue 4: the cost and speed of the change log, on PostgreSQL, in one run.
 *  1. write overhead, twice: (a) the `updateResource` mutation over HTTP at 32 connections against
 *     the same server whose write path writes the same row and no change row (bench/update-server.ts);
 *     (b) in this process, update transactions/s at 32 concurrent writers through the write path
 *     alone (row + change row + sequencer) against the same row update without change capture;
 *  2. feed read: changes/s paging `first: 1000` through 1,000,000 changes (ChangeFeed.page, the code
 *     behind Query.changes);
 *  3. commit-to-visible latency p50/p99 in the feed under 32 concurrent writers.
 *
 *   npm run bench:changes          (BENCH_FEED_ROWS=200000 for a quicker run)
 */
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import { queryTuples } from "../src/kernel/db.ts";
import { loadEnv } from "../src/kernel/env.ts";
import { newId } from "../src/kernel/ids.ts";
import { createLogger } from "../src/kernel/logger.ts";
import { fromTuple, RESOURCE_COLUMNS, selectResources } from "../src/ledger/rows.ts";
import { resources } from "../src/ledger/tables.ts";
import { commitWrites, ROW_STATEMENTS } from "../src/ledger/writePath.ts";
import { buildApp } from "../src/server/app.ts";
import { openDatabase } from "../src/server/database.ts";
import { prepareDatabase } from "../src/server/runtime.ts";
import { load, startProcess, stopProcess, table } from "./lib/load.ts";
import { cpuSeconds, freshDatabase, postgresCpuSeconds } from "./lib/pg.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const FEED_ROWS = Number(process.env.BENCH_FEED_ROWS ?? 1_000_000);
const WRITERS = 32;
const token = "pbk_bench_token_0123456789abcdefghijklmnopqrstuvwxyz";

const url = await freshDatabase("plugboard_bench_changes");
const env = loadEnv({
  DATABASE_URL: url,
  PLUGBOARD_ADMIN_TOKEN: token,
  PLUGBOARD_LOG_LEVEL: "warn",
  PLUGBOARD_RATE_LIMIT: "0",
});
const logger = createLogger("warn");
const database = await openDatabase({ url, dataDir: "memory://", maxConnections: WRITERS + 4 });
await prepareDatabase(database, env, logger);
const app = buildApp({
  database: { db: database.db, backgroundDb: database.backgroundDb },
  env,
  logger,
});
const { services } = app;
const actor = await services.auth.authenticateToken(token);
const catalog = await services.catalogs.get(actor.workspaceId);
const type = catalog.typesByKey.get("task");
if (!type) throw new Error("no task type");
const db = database.db;

// Rows to update: one per writer, so writers never wait on each other's row locks.
const ids: string[] = [];
for (let w = 0; w < WRITERS; w++) {
  const id = newId("resource");
  ids.push(id);
  await db.transaction((tx) =>
    commitWrites(tx, actor, catalog, [
      { kind: "create", type, id, state: { name: "t", parentId: null, assigneeId: null, values: {} } },
    ]),
  );
}

let serial = 0; // every write sets a name never used before, so no update is a no-op
async function throughput(run: (id: string, i: number) => Promise<void>): Promise<number> {
  let done = 0;
  const until = Date.now() + SECONDS * 1000;
  await Promise.all(
    ids.map(async (id) => {
      while (Date.now() < until) {
        await run(id, serial++);
        done++;
      }
    }),
  );
  return done / SECONDS;
}

const captureWrite = async (id: string, i: number) => {
  await db.transaction(async (tx) => {
    const [before] = await selectResources(tx, sql`${resources.id} = ${id}`, sql`for update`);
    if (!before) throw new Error("missing row");
    await commitWrites(tx, actor, catalog, [
      {
        kind: "update",
        type,
        before,
        state: { name: `n${i}`, parentId: null, assigneeId: null, values: before.values },
      },
    ]);
  });
};
const withoutCaptureWrite = async (id: string, i: number) => {
  await db.transaction(async (tx) => {
    const [before] = await selectResources(tx, sql`${resources.id} = ${id}`, sql`for update`);
    if (!before) throw new Error("missing row");
    // The write path's own row statement, minus the change row and the sequencer.
    await queryTuples(
      tx,
      {
        text: `${ROW_STATEMENTS.update.text} returning ${RESOURCE_COLUMNS}`,
        params: [id, `n${i}`, null, null, JSON.stringify(before.values)],
      },
      fromTuple,
    );
  });
};
const variants = {
  // As mutations do: wait until the change is numbered (read-your-writes in the feed)…
  awaiting: async (id: string, i: number) => {
    await captureWrite(id, i);
    await services.sequencer.kick(actor.workspaceId);
  },
  // …and with numbering left to run behind the writers.
  behind: async (id: string, i: number) => {
    await captureWrite(id, i);
    void services.sequencer.kick(actor.workspaceId);
  },
  without: withoutCaptureWrite,
};
// Rounds alternate the variants, so drift on a noisy machine hits each of them alike. CPU per
// transaction is split between this process (server code and driver) and PostgreSQL.
const totals = { awaiting: 0, behind: 0, without: 0 };
const cpu = {
  awaiting: { node: 0, pg: 0, tx: 0 },
  behind: { node: 0, pg: 0, tx: 0 },
  without: { node: 0, pg: 0, tx: 0 },
};
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of Object.entries(variants) as [keyof typeof totals, typeof captureWrite][]) {
    const node0 = process.cpuUsage();
    const pg0 = await postgresCpuSeconds();
    const rate = await throughput(run);
    const node = process.cpuUsage(node0);
    totals[name] += rate / ROUNDS;
    cpu[name].node += (node.user + node.system) / 1000;
    cpu[name].pg += ((await postgresCpuSeconds()) - pg0) * 1000;
    cpu[name].tx += rate * SECONDS;
  }
}
const { awaiting: withCapture, behind: withCaptureAsync, without: withoutCapture } = totals;
const cpuPerTx = (name: keyof typeof cpu) =>
  `${(cpu[name].node / cpu[name].tx).toFixed(3)} + ${(cpu[name].pg / cpu[name].tx).toFixed(3)}`;

// End to end: `updateResource` over HTTP, each connection renaming its own task, Plugboard against
// the same server without change capture, in alternating rounds. CPU per mutation is the server
// process's plus PostgreSQL's.
const serverScript = fileURLToPath(new URL("./update-server.ts", import.meta.url));
const serverEnv = {
  DATABASE_URL: url,
  PLUGBOARD_ADMIN_TOKEN: token,
  PLUGBOARD_LOG_LEVEL: "warn",
  NODE_ENV: "production",
};
const startServer = (port: number, extra: Record<string, string> = {}) =>
  startProcess(
    [process.execPath, "--max-semi-space-size=64", "--import", "tsx", serverScript],
    { ...serverEnv, PORT: String(port), ...extra },
    `http://127.0.0.1:${port}/readyz`,
  );
const servers = {
  capture: { child: await startServer(4711), port: 4711 },
  without: { child: await startServer(4712, { WITHOUT_CAPTURE: "1" }), port: 4712 },
};
const UPDATE =
  "mutation($id: ID!, $name: String!) { updateResource(input: { id: $id, values: { name: $name } }) { resource { id version } } }";
let nextTask = 0;
const updateBody = (connection: Record<string, unknown>) => {
  connection.id ??= ids[nextTask++ % ids.length];
  return JSON.stringify({ query: UPDATE, variables: { id: connection.id, name: `e${serial++}` } });
};
const versions = async () =>
  Number(
    (
      await queryTuples(
        db,
        { text: "select sum(version) from resources where id = any($1)", params: [ids] },
        (r) => r[0],
      )
    )[0],
  );
const endToEnd = { capture: { rate: 0, node: 0, pg: 0, tx: 0 }, without: { rate: 0, node: 0, pg: 0, tx: 0 } };
const runServer = async (name: keyof typeof servers, seconds: number) => {
  const { child, port } = servers[name];
  const [node0, pg0, v0] = [
    await cpuSeconds(child.pid as number),
    await postgresCpuSeconds(),
    await versions(),
  ];
  const result = await load({
    url: `http://127.0.0.1:${port}/graphql`,
    body: updateBody,
    headers: { authorization: `Bearer ${token}` },
    seconds,
  });
  const updates = (await versions()) - v0;
  // Every answered request must have been an update (a GraphQL error would still be a 200).
  if (result.non2xx || result.errors || updates < result.requestsPerSecond * seconds * 0.99)
    throw new Error(`${name}: ${result.non2xx} non-2xx, ${result.errors} errors, ${updates} updates`);
  return {
    rate: result.requestsPerSecond,
    node: (await cpuSeconds(child.pid as number)) - node0,
    pg: (await postgresCpuSeconds()) - pg0,
    tx: updates,
  };
};
for (const name of ["capture", "without"] as const) await runServer(name, 3); // warm up
for (let round = 0; round < ROUNDS; round++) {
  for (const name of ["capture", "without"] as const) {
    const r = await runServer(name, SECONDS);
    const total = endToEnd[name];
    total.rate += r.rate / ROUNDS;
    total.node += r.node * 1000;
    total.pg += r.pg * 1000;
    total.tx += r.tx;
  }
}
await stopProcess(servers.capture.child);
await stopProcess(servers.without.child);
const e2eCpu = (name: keyof typeof endToEnd) =>
  `${(endToEnd[name].node / endToEnd[name].tx).toFixed(3)} + ${(endToEnd[name].pg / endToEnd[name].tx).toFixed(3)}`;

// Commit-to-visible latency: 32 writers create tasks while a poller follows the feed.
const committedAt = new Map<string, number>();
const latencies: number[] = [];
const seen = new Set<string>();
let writing = true;
const headBefore = await services.changes.head(actor.workspaceId);
const poller = (async () => {
  let after = String(headBefore);
  while (writing || [...committedAt.keys()].some((id) => !seen.has(id))) {
    const page = await services.changes.page(actor, { after, first: 1000 });
    const now = performance.now();
    for (const change of page.nodes) {
      seen.add(change.resourceId);
      const at = committedAt.get(change.resourceId);
      // Seen before its writer had even recorded the commit: visible at once.
      latencies.push(at === undefined ? 0 : Math.max(0, now - at));
    }
    after = page.endCursor ?? after;
    if (page.nodes.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  }
})();
await throughput(async () => {
  const id = newId("resource");
  await db.transaction((tx) =>
    commitWrites(tx, actor, catalog, [
      { kind: "create", type, id, state: { name: "l", parentId: null, assigneeId: null, values: {} } },
    ]),
  );
  committedAt.set(id, performance.now());
  void services.sequencer.kick(actor.workspaceId);
});
writing = false;
await poller;
latencies.sort((a, b) => a - b);
const pct = (p: number) => (latencies[Math.floor(latencies.length * p)] ?? 0).toFixed(1);

// Feed read: a million changes, paged 1000 at a time.
const head = await services.changes.head(actor.workspaceId);
await db.execute(sql`
  insert into changes (workspace_id, seq, kind, resource_type_id, resource_type_key, resource_id, actor, fields, snapshot, version)
  select ${actor.workspaceId}::text, ${head}::bigint + g, 'UPDATED', ${type.id}::text, 'task', ${ids[0]}::text,
         '{"kind":"api_key","memberId":null,"credentialId":null}'::jsonb,
         jsonb_build_array(jsonb_build_object('fieldId', ${type.fieldsByKey.get("name")?.id}::text, 'key', 'name', 'name', 'Name',
                                              'previousValue', 'n' || (g - 1), 'value', 'n' || g)),
         jsonb_build_object('name', 'n' || g), g
  from generate_series(1, ${FEED_ROWS}::int) g`);
await db.execute(
  sql`update change_feeds set head = ${head + FEED_ROWS} where workspace_id = ${actor.workspaceId}`,
);
await db.execute(sql`analyze changes`);
let after = String(head);
let read = 0;
const t0 = performance.now();
for (;;) {
  const page = await services.changes.page(actor, { after, first: 1000 });
  read += page.nodes.length;
  after = page.endCursor ?? after;
  if (!page.hasNextPage) break;
}
const readSeconds = (performance.now() - t0) / 1000;

console.log(
  table([
    {
      measure: `updateResource mutations/s over HTTP with change capture (32 connections, ${ROUNDS} rounds of ${SECONDS} s)`,
      value: endToEnd.capture.rate.toFixed(0),
    },
    {
      measure: "updateResource mutations/s, the same server without change capture",
      value: endToEnd.without.rate.toFixed(0),
    },
    {
      measure: "updateResource capture overhead",
      value: `${((1 - endToEnd.capture.rate / endToEnd.without.rate) * 100).toFixed(1)}% (aim < 30%)`,
    },
    {
      measure: "CPU ms per mutation, server + PostgreSQL (capture / without)",
      value: `${e2eCpu("capture")} / ${e2eCpu("without")}`,
    },
    {
      measure: `write path alone: update tx/s with change capture, awaiting numbering (32 writers, ${ROUNDS} rounds of ${SECONDS} s)`,
      value: withCapture.toFixed(0),
    },
    {
      measure: "write path alone: update tx/s with change capture, numbering behind",
      value: withCaptureAsync.toFixed(0),
    },
    { measure: "write path alone: update tx/s without change capture", value: withoutCapture.toFixed(0) },
    {
      measure: "write path alone: capture overhead (awaiting / behind)",
      value: `${((1 - withCapture / withoutCapture) * 100).toFixed(1)}% / ${((1 - withCaptureAsync / withoutCapture) * 100).toFixed(1)}% (aim < 30%)`,
    },
    {
      measure: "CPU ms per update tx, this process + PostgreSQL (awaiting / behind / without)",
      value: `${cpuPerTx("awaiting")} / ${cpuPerTx("behind")} / ${cpuPerTx("without")}`,
    },
    { measure: `feed read: changes/s over ${read} changes`, value: (read / readSeconds).toFixed(0) },
    {
      measure: `commit-to-visible p50 / p99 ms (${latencies.length} changes, 32 writers)`,
      value: `${pct(0.5)} / ${pct(0.99)}`,
    },
  ]),
);
await app.close();
await database.close();

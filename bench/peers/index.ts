/**
 * Issue 17: Plugboard's read and write path against PostGraphile 5 and a raw postgres.js floor, on
 * the same data (1,000 accounts; contacts with an email and one linked account), one command:
 *
 *   npm run bench:peers
 *
 * Installs PostGraphile 5 and Node 22 into bench/peers/.deps on the first run (deps.ts), loads a
 * plain accounts/contacts schema (PostGraphile, floor) and the same rows as Plugboard resources, then
 * runs every server alone, one operation at a time, in interleaved rounds (autocannon, 32
 * connections), checking every response. Prints the median req/s, server CPU µs per request and
 * PostgreSQL CPU µs per request (its backends serving that server's database), and the ratios:
 * of the medians, then taken round by round with their range (ratios.ts), each server's page ÷ list
 * among them.
 *
 * BENCH_SIZES (contacts, "100000,1000000"), BENCH_SECONDS (15 per run), BENCH_ROUNDS (3),
 * BENCH_CONNECTIONS (32), BENCH_NODE22_PLUGBOARD (1: also Plugboard on Node 22; 0 to skip),
 * BENCH_PEERS (e.g. "plugboard": measure only those kinds of server), BENCH_OPS (e.g. "create"),
 * BENCH_EXTRA_FIELDS (0: fields of every contact the queries do not ask for; see seed.ts).
 *
 * BENCH_BASELINE=<another checkout> also serves that checkout's Plugboard (on this Node, same data
 * and schema: its migrations must be this one's or older) and prints this ÷ baseline, interleaved in
 * the same rounds: how an A/B of one change is read on a machine whose req/s moves between runs.
 * With BENCH_PEERS=plugboard BENCH_NODE22_PLUGBOARD=0 it measures just the two.
 */
import type { ChildProcess } from "node:child_process";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { load, startProcess, stopProcess, table } from "../lib/load.ts";
import { adminUrl, cpuSeconds, freshDatabase } from "../lib/pg.ts";
import { installPeers, node22, versionOf } from "./deps.ts";
import { check, collectCursors, OPERATIONS, type OperationKey, type Peer, request } from "./operations.ts";
import { describe, median, roundRatios } from "./ratios.ts";
import { seedPlain, seedPlugboard } from "./seed.ts";

const SIZES = (process.env.BENCH_SIZES ?? "100000,1000000").split(",").map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const WITH_NODE22_PLUGBOARD = process.env.BENCH_NODE22_PLUGBOARD !== "0";
const BASELINE = process.env.BENCH_BASELINE ? resolve(process.env.BENCH_BASELINE) : undefined;
const NODE_MAJOR = process.versions.node.split(".")[0];
const PLUGBOARD_LABEL = `Plugboard (Node ${NODE_MAJOR})`;
const BASELINE_LABEL = `Plugboard baseline (Node ${NODE_MAJOR})`;
const token = "pbk_bench_token_0123456789abcdefghijklmnopqrstuvwxyz";
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const NODE_FLAGS = ["--max-semi-space-size=64"]; // as `npm start`; the same for every Node server

installPeers();
const monitor = postgres(adminUrl, { max: 1, onnotice: () => {} });
const pgVersion = (await monitor`show server_version`)[0]?.server_version as string;

/** CPU seconds so far of the PostgreSQL backends connected to `database` (its server's pool). */
async function backendCpu(database: string): Promise<Map<number, number>> {
  const rows = await monitor<{ pid: number }[]>`select pid from pg_stat_activity
    where datname = ${database} and backend_type = 'client backend' and pid <> pg_backend_pid()`;
  const cpu = new Map<number, number>();
  for (const { pid } of rows) cpu.set(pid, await cpuSeconds(pid).catch(() => 0));
  return cpu;
}
function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0);
  return total;
}

async function graphqlClient(origin: string, headers: Record<string, string>) {
  return async (query: string, variables: Record<string, unknown> = {}) => {
    const response = await fetch(`${origin}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data: unknown; errors?: unknown };
    if (body.errors) throw new Error(`${origin}: ${JSON.stringify(body.errors)}`);
    // biome-ignore lint/suspicious/noExplicitAny: the bench reads responses loosely
    return body.data as any;
  };
}

interface Sample {
  rps: number;
  serverUs: number;
  pgUs: number;
}

const plainDb = "plugboard_bench_peers_plain";
const plugboardDb = "plugboard_bench_peers";

async function runSize(contacts: number): Promise<Map<string, Map<OperationKey, Sample>>> {
  console.log(`\n== ${contacts.toLocaleString("en")} contacts ==`);
  const plainUrl = await freshDatabase(plainDb);
  const plugboardUrl = await freshDatabase(plugboardDb);
  const children: ChildProcess[] = [];
  try {
    return await measure(contacts, plainUrl, plugboardUrl, children);
  } finally {
    for (const child of children) await stopProcess(child);
  }
}

async function measure(
  contacts: number,
  plainUrl: string,
  plugboardUrl: string,
  children: ChildProcess[],
): Promise<Map<string, Map<OperationKey, Sample>>> {
  const started = Date.now();
  await seedPlain(plainUrl, contacts);
  const plugboardEnv = { DATABASE_URL: plugboardUrl, PLUGBOARD_ADMIN_TOKEN: token };
  const cli = here("../../bin/plugboard.mjs");
  const serve = (node: string, bin: string, port: number) =>
    startProcess(
      [node, ...NODE_FLAGS, bin, "serve"],
      { ...plugboardEnv, PORT: String(port) },
      `http://127.0.0.1:${port}/readyz`,
    );
  // A server to migrate the database and name the ids the seed needs; then stopped, so that every
  // measured server starts on the seeded data: the one that served from before the seed measured
  // ~8% slower than the same code started after it, in the same rounds (bench/README.md).
  const seeder = await serve(process.execPath, cli, 4811);
  children.push(seeder);
  const auth = { authorization: `Bearer ${token}` };
  await seedPlugboard(plugboardUrl, contacts, await graphqlClient("http://127.0.0.1:4811", auth));
  await stopProcess(seeder);
  console.log(`seeded both schemas in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  const first = await serve(process.execPath, cli, 4811);
  children.push(first);

  const floor = await startProcess(
    [process.execPath, ...NODE_FLAGS, "--import", "tsx", here("./floor.ts")],
    { PORT: "4812", DATABASE_URL: plainUrl },
    "http://127.0.0.1:4812/",
  );
  const postgraphile = await startProcess(
    [node22, ...NODE_FLAGS, here("./postgraphile.cjs")],
    { PORT: "4813", DATABASE_URL: plainUrl, NODE_ENV: "production" },
    "http://127.0.0.1:4813/graphql",
  );
  children.push(floor, postgraphile);
  const peers: Peer[] = [
    {
      label: "raw postgres.js floor",
      kind: "floor",
      origin: "http://127.0.0.1:4812",
      headers: {},
      pid: floor.pid as number,
      cursors: [],
    },
    {
      label: `PostGraphile ${versionOf("postgraphile")} on Node 22`,
      kind: "postgraphile",
      origin: "http://127.0.0.1:4813",
      headers: {},
      pid: postgraphile.pid as number,
      cursors: [],
    },
    {
      label: PLUGBOARD_LABEL,
      kind: "plugboard",
      origin: "http://127.0.0.1:4811",
      headers: auth,
      pid: first.pid as number,
      cursors: [],
    },
  ];
  /** One more Plugboard server on the same data (`bin`: a checkout's command), a peer of its own. */
  const addPlugboard = async (node: string, bin: string, port: number, label: string) => {
    const child = await serve(node, bin, port);
    children.push(child);
    peers.push({
      label,
      kind: "plugboard",
      origin: `http://127.0.0.1:${port}`,
      headers: auth,
      pid: child.pid as number,
      cursors: [],
    });
  };
  if (WITH_NODE22_PLUGBOARD) await addPlugboard(node22, cli, 4814, "Plugboard (Node 22)");
  if (BASELINE)
    await addPlugboard(process.execPath, join(BASELINE, "bin/plugboard.mjs"), 4815, BASELINE_LABEL);
  // BENCH_PEERS=floor,postgraphile,plugboard: measure only those kinds (for A/B runs of one change).
  const kinds = process.env.BENCH_PEERS?.split(",");
  if (kinds) peers.splice(0, peers.length, ...peers.filter((p) => kinds.includes(p.kind)));
  for (const peer of peers) {
    peer.cursors = await collectCursors(peer, contacts, 200, await graphqlClient(peer.origin, peer.headers));
  }
  const databaseOf = (peer: Peer) => (peer.kind === "plugboard" ? plugboardDb : plainDb);

  async function run(peer: Peer, op: OperationKey, seconds: number): Promise<Sample> {
    const { url, body } = request(peer, op, contacts);
    const cpu0 = await cpuSeconds(peer.pid);
    const pg0 = await backendCpu(databaseOf(peer));
    const result = await load({
      url,
      body,
      headers: peer.headers,
      seconds,
      connections: CONNECTIONS,
      check: (text, connection) => check(peer, op, text, connection),
    });
    const serverCpu = (await cpuSeconds(peer.pid)) - cpu0;
    const pgCpu = cpuBetween(pg0, await backendCpu(databaseOf(peer)));
    if (result.non2xx || result.errors || result.failed || result.requestsPerSecond === 0)
      throw new Error(
        `${peer.label} ${op}: ${result.requestsPerSecond} req/s, ${result.non2xx} non-2xx, ${result.errors} errors, ${result.failed} wrong answers; first: ${result.firstFailure}`,
      );
    const requests = result.requestsPerSecond * seconds;
    return {
      rps: result.requestsPerSecond,
      serverUs: (serverCpu * 1e6) / requests,
      pgUs: (pgCpu * 1e6) / requests,
    };
  }

  // Warm-up: V8's JIT, prepared statements and plans, every pool's connections.
  for (const { key } of OPERATIONS) for (const peer of peers) await run(peer, key, 3);
  const samples = new Map(
    peers.map((p) => [p.label, new Map(OPERATIONS.map((o) => [o.key, [] as Sample[]]))]),
  );
  for (let round = 1; round <= ROUNDS; round++) {
    for (const { key } of OPERATIONS) {
      for (const peer of peers) {
        const sample = await run(peer, key, SECONDS);
        samples.get(peer.label)?.get(key)?.push(sample);
        console.log(`round ${round} ${key.padEnd(6)} ${peer.label}: ${Math.round(sample.rps)} req/s`);
      }
    }
  }
  const medians = new Map(
    peers.map((p) => [
      p.label,
      new Map(
        OPERATIONS.map(({ key }) => {
          const s = samples.get(p.label)?.get(key) ?? [];
          return [
            key,
            {
              rps: median(s.map((x) => x.rps)),
              serverUs: median(s.map((x) => x.serverUs)),
              pgUs: median(s.map((x) => x.pgUs)),
            },
          ];
        }),
      ),
    ]),
  );
  const postgraphileLabel = peers.find((p) => p.kind === "postgraphile")?.label;
  const cell = (s: Sample) =>
    `${Math.round(s.rps).toLocaleString("en")} (${Math.round(s.serverUs)} / ${Math.round(s.pgUs)})`;
  const rows = OPERATIONS.map(({ key, label }) => {
    const row: Record<string, string> = { operation: label };
    for (const peer of peers) row[peer.label] = cell(medians.get(peer.label)?.get(key) as Sample);
    const reference = postgraphileLabel ? (medians.get(postgraphileLabel)?.get(key)?.rps ?? 0) : 0;
    for (const peer of peers.filter((p) => p.kind === "plugboard" && reference > 0))
      row[`${peer.label} / PostGraphile`] = (
        (medians.get(peer.label)?.get(key)?.rps ?? 0) / reference
      ).toFixed(2);
    if (BASELINE) {
      const mine = medians.get(PLUGBOARD_LABEL)?.get(key);
      const theirs = medians.get(BASELINE_LABEL)?.get(key);
      if (mine && theirs)
        row["this ÷ baseline"] =
          `${(mine.rps / theirs.rps).toFixed(2)} req/s, ${(mine.serverUs / theirs.serverUs).toFixed(2)} server CPU`;
    }
    return row;
  });
  console.log(
    `\n${contacts.toLocaleString("en")} contacts, PostgreSQL ${pgVersion}, ${ROUNDS} interleaved rounds of ${SECONDS} s at ${CONNECTIONS} connections.` +
      `\nMedian req/s (server CPU µs per request / PostgreSQL CPU µs per request):\n\n${table(rows)}`,
  );
  console.log(`\n${pairedTable(peers, samples, postgraphileLabel)}`);
  return medians;
}

/**
 * The ratios again, taken round by round (ratios.ts): each Plugboard's req/s ÷ PostGraphile's in the
 * same round, and every server's page ÷ its list (the aim: a page within 10% of the list).
 */
function pairedTable(
  peers: Peer[],
  samples: Map<string, Map<OperationKey, Sample[]>>,
  postgraphileLabel: string | undefined,
): string {
  const rounds = (label: string, key: OperationKey) => (samples.get(label)?.get(key) ?? []).map((s) => s.rps);
  // A row per operation (each Plugboard ÷ PostGraphile), then page ÷ list: a cell for every server.
  const row = (label: string, cell: (peer: Peer) => number[]) =>
    Object.fromEntries([["round by round", label], ...peers.map((p) => [p.label, describe(cell(p))])]);
  const rows = OPERATIONS.map(({ key, label }) =>
    row(label, (peer) =>
      peer.kind === "plugboard" && postgraphileLabel
        ? roundRatios(rounds(peer.label, key), rounds(postgraphileLabel, key))
        : [],
    ),
  );
  const keys = OPERATIONS.map((o) => o.key);
  if (keys.includes("list") && keys.includes("page"))
    rows.push(
      row("page ÷ list, same server", (peer) =>
        roundRatios(rounds(peer.label, "page"), rounds(peer.label, "list")),
      ),
    );
  return `Ratios paired within each round, median (lowest–highest): Plugboard ÷ PostGraphile req/s, then each server's page ÷ list:\n\n${table(rows)}`;
}

const results = new Map<number, Map<string, Map<OperationKey, Sample>>>();
for (const size of SIZES) results.set(size, await runSize(size));

if (SIZES.length > 1) {
  // How each cost grows with the table: CPU per request (server + PostgreSQL) at the largest size
  // over the smallest.
  const [small, large] = [Math.min(...SIZES), Math.max(...SIZES)];
  const rows = OPERATIONS.map(({ key, label }) => {
    const row: Record<string, string> = { operation: label };
    for (const [peer, ops] of results.get(large) ?? []) {
      const before = results.get(small)?.get(peer)?.get(key);
      const after = ops.get(key);
      if (!before || !after) continue;
      row[peer] =
        `${((after.serverUs + after.pgUs) / (before.serverUs + before.pgUs)).toFixed(2)}× (PostgreSQL ${Math.round(before.pgUs)} → ${Math.round(after.pgUs)} µs)`;
    }
    return row;
  });
  console.log(
    `\nCPU per request at ${large.toLocaleString("en")} over ${small.toLocaleString("en")} contacts:\n\n${table(rows)}`,
  );
}
await monitor.end();

/**
 * Issue 15: what the limits cost on the hot path. A page of 50 contacts with their linked accounts
 * (`first` as a variable, so the cost estimate walks the document on every request instead of
 * hitting its per-document cache), at 32 connections, against servers that differ only in the
 * limits, alternating in BENCH_ROUNDS rounds of BENCH_SECONDS each:
 *  - "rate limit on": every default limit, with the per-credential bucket raised so that it never
 *    refuses (the bucket's UPSERT still runs on every request, as in production);
 *  - "rate limit off": PLUGBOARD_RATE_LIMIT=0; the cost and shape checks still run;
 *  - "no limits" (only with BENCH_BASELINE_DIR): the same server from a checkout without src/limits,
 *    e.g. `git archive <commit> | tar -x -C /tmp/base && ln -s $PWD/node_modules /tmp/base/`.
 * Server CPU and PostgreSQL CPU per request are reported for each. The load rounds are noisy on a
 * shared machine, so the checks' own CPU is also measured in process first: the cost walk, and a
 * bucket take with its headers (the synced PostgreSQL store takes locally, as the memory store does).
 *
 *   npm run bench:limits                 # on PostgreSQL (BENCH_DATABASE_URL), buckets in a table
 *   BENCH_PGLITE=1 npm run bench:limits  # on embedded PGlite, buckets in process memory
 */
import { fileURLToPath } from "node:url";
import { parse } from "graphql";
import { estimateCost } from "../src/limits/cost.ts";
import { MemoryBucketStore } from "../src/limits/memoryStore.ts";
import { type Decision, RateLimiter, rateLimitHeaders } from "../src/limits/rateLimit.ts";
import { schema } from "../src/server/schema.ts";
import { load, postGraphQL, startProcess, stopProcess, table } from "./lib/load.ts";
import { cpuSeconds, freshDatabase, postgresCpuSeconds } from "./lib/pg.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PGLITE = Boolean(process.env.BENCH_PGLITE);
const token = "pbk_bench_token_0123456789abcdefghijklmnopqrstuvwxyz";
const cli = fileURLToPath(new URL("../bin/plugboard.mjs", import.meta.url));
const baseline = process.env.BENCH_BASELINE_DIR;

const PAGE = JSON.stringify({
  query: `query Page($first: Int) { resources(type: "contact", first: $first) {
    nodes { id name values updatedAt linked(field: "accounts") { nodes { id name } } }
    pageInfo { hasNextPage endCursor } } }`,
  variables: { first: 50 },
});

type Name = "rate limit on" | "rate limit off" | "no limits";
const configs: { name: Name; cli: string; env: Record<string, string> }[] = [
  { name: "rate limit on", cli, env: { PLUGBOARD_RATE_LIMIT: "1000000000" } },
  { name: "rate limit off", cli, env: { PLUGBOARD_RATE_LIMIT: "0" } },
];
if (baseline) configs.push({ name: "no limits", cli: `${baseline}/bin/plugboard.mjs`, env: {} });

const gql = (endpoint: string, query: string, variables: Record<string, unknown> = {}) =>
  postGraphQL(endpoint, token, query, variables);

/** 20 accounts and 200 contacts linked to two each, through the API (the same data for every config). */
async function seed(endpoint: string): Promise<void> {
  const create = `mutation($type: String!, $items: [CreateResourcesItem!]!) {
    createResources(input: { type: $type, items: $items }) { resources { id } } }`;
  const accounts = await gql(endpoint, create, {
    type: "account",
    items: Array.from({ length: 20 }, (_, i) => ({ values: { name: `Account ${i}` } })),
  });
  const ids = accounts.createResources.resources.map((r: { id: string }) => r.id) as string[];
  for (let batch = 0; batch < 2; batch++) {
    await gql(endpoint, create, {
      type: "contact",
      items: Array.from({ length: 100 }, (_, i) => ({
        values: {
          name: `Contact ${batch}-${i}`,
          email: `c${batch}-${i}@example.com`,
          accounts: [ids[i % 20], ids[(i + 7) % 20]],
        },
      })),
    });
  }
}

/** Microseconds per call of the per-request work the limits add, in this process. */
function microbench(): { estimate: number; take: number } {
  const document = parse(JSON.parse(PAGE).query);
  const limiter = new RateLimiter(new MemoryBucketStore());
  const n = 200_000;
  let started = performance.now();
  for (let i = 0; i < n; i++) estimateCost(schema, document, "Page", { first: 50 }, 200_000);
  const estimate = ((performance.now() - started) * 1000) / n;
  started = performance.now();
  for (let i = 0; i < n; i++)
    rateLimitHeaders(limiter.take("api_key:k", { limit: 1e12, windowMs: 60_000 }) as Decision);
  return { estimate, take: ((performance.now() - started) * 1000) / n };
}
microbench(); // warm up
const micro = microbench();
console.log(
  `in process: cost estimate ${micro.estimate.toFixed(2)} µs, bucket take + headers ${micro.take.toFixed(2)} µs per request`,
);

const rows: Record<string, string | number>[] = [];
const totals = new Map<Name, { rps: number; cpu: number; pgCpu: number }>();
for (let round = 1; round <= ROUNDS; round++) {
  // Each round starts with a different config, so a drift on the machine does not favour one.
  const order = configs.map((_, i) => configs[(i + round - 1) % configs.length] as (typeof configs)[number]);
  for (const config of order) {
    const port = 4801;
    const database: Record<string, string> = PGLITE
      ? { PLUGBOARD_DATA_DIR: "memory://" }
      : { DATABASE_URL: await freshDatabase("plugboard_bench_limits") };
    const child = await startProcess(
      [config.cli, "serve"],
      {
        PORT: String(port),
        PLUGBOARD_ADMIN_TOKEN: token,
        PLUGBOARD_LOG_LEVEL: "warn",
        ...database,
        ...config.env,
      },
      `http://127.0.0.1:${port}/readyz`,
    );
    const url = `http://127.0.0.1:${port}/graphql`;
    await seed(url);
    const headers = { authorization: `Bearer ${token}` };
    await load({ url, body: PAGE, seconds: 3, headers }); // warm up (JIT, caches)
    const [cpu0, pg0] = [await cpuSeconds(child.pid as number), PGLITE ? 0 : await postgresCpuSeconds()];
    const result = await load({ url, body: PAGE, seconds: SECONDS, headers });
    const requests = result.requestsPerSecond * SECONDS;
    const cpu = (((await cpuSeconds(child.pid as number)) - cpu0) * 1000) / requests;
    const pgCpu = PGLITE ? 0 : (((await postgresCpuSeconds()) - pg0) * 1000) / requests;
    await stopProcess(child);
    if (result.non2xx || result.errors)
      throw new Error(`${config.name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
    rows.push({
      round,
      server: config.name,
      "req/s": Math.round(result.requestsPerSecond),
      "p99 ms": result.p99,
      "server CPU ms/req": cpu.toFixed(3),
      "postgres CPU ms/req": pgCpu.toFixed(3),
    });
    const total = totals.get(config.name) ?? { rps: 0, cpu: 0, pgCpu: 0 };
    total.rps += result.requestsPerSecond / ROUNDS;
    total.cpu += cpu / ROUNDS;
    total.pgCpu += pgCpu / ROUNDS;
    totals.set(config.name, total);
  }
}
console.log(table(rows));
const reference = totals.get("no limits") ?? totals.get("rate limit off");
const on = totals.get("rate limit on");
if (reference && on) {
  const name = totals.has("no limits") ? "no limits" : "rate limit off";
  const pct = (a: number, b: number) => `${(((a - b) / b) * 100).toFixed(1)}%`;
  console.log(
    `\nrate limit on vs ${name}: ${on.rps.toFixed(0)} vs ${reference.rps.toFixed(0)} req/s;` +
      ` server CPU ${on.cpu.toFixed(3)} vs ${reference.cpu.toFixed(3)} ms/req (${pct(on.cpu, reference.cpu)});` +
      ` server + postgres CPU ${(on.cpu + on.pgCpu).toFixed(3)} vs ${(reference.cpu + reference.pgCpu).toFixed(3)} ms/req` +
      ` (${pct(on.cpu + on.pgCpu, reference.cpu + reference.pgCpu)}; target < 5%).` +
      `\nThe checks' own work, ${(micro.estimate + micro.take).toFixed(1)} µs, is` +
      ` ${(((micro.estimate + micro.take) / 1000 / reference.cpu) * 100).toFixed(2)}% of a request's ${reference.cpu.toFixed(3)} ms.`,
  );
}

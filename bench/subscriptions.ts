/**
 * Issue 5: subscriptions under load. A `plugboard serve` process with many open `changes`
 * subscriptions over graphql-ws while a writer commits updates at a steady rate:
 *
 * - commit-to-client latency p50/p99: from the writer receiving the mutation's response (the commit
 *   is acknowledged) to a subscriber receiving the change;
 * - server memory per idle subscription (RSS growth / subscriptions, each on its own WebSocket);
 * - the same latencies while one consumer that never reads its socket subscribes to everything.
 *
 * Mix (the connector pattern): BENCH_SUBS subscriptions each watch one record
 * (`filter: { resourceIds: [id] }`), plus BENCH_OBSERVERS that receive every change. Each write updates
 * one of the watched records, so each change reaches one watcher and every observer; every
 * subscription is woken and filters every change.
 *
 *   npm run bench:subscriptions                              # embedded PGlite
 *   DATABASE_URL=postgres://… npm run bench:subscriptions    # PostgreSQL
 *   BENCH_SUBS=1000 BENCH_OBSERVERS=10 BENCH_RATE=200 BENCH_SECONDS=15
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { startProcess, stopProcess, table } from "./lib/load.ts";

const subs = Number(process.env.BENCH_SUBS ?? 1000);
const observers = Number(process.env.BENCH_OBSERVERS ?? 10);
const rate = Number(process.env.BENCH_RATE ?? 200);
const seconds = Number(process.env.BENCH_SECONDS ?? 15);
const port = Number(process.env.BENCH_PORT ?? 4611);
const MAX_INFLIGHT = 32;
const token = "pbk_bench_token_0123456789abcdefghijklmnopqrstuvwxyz";
const url = `http://127.0.0.1:${port}/graphql`;
const wsUrl = `ws://127.0.0.1:${port}/graphql`;
const cli = fileURLToPath(new URL("../bin/plugboard.mjs", import.meta.url));
const SUBSCRIPTION = `subscription ($filter: ChangeFilter) {
  changes(filter: $filter) { id resourceId fields { key value } }
}`;

async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown };
  if (!body.data || body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
  return Number(line?.[1] ?? 0) / 1024;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

// --- the server -------------------------------------------------------------------------------
const server = await startProcess(
  [cli, "serve"],
  {
    PORT: String(port),
    PLUGBOARD_DATA_DIR: "memory://",
    PLUGBOARD_ADMIN_TOKEN: token,
    PLUGBOARD_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "warn",
  },
  `http://127.0.0.1:${port}/readyz`,
);
const pid = server.pid as number;

// --- the records the watchers watch --------------------------------------------------------------
const ids: string[] = [];
for (let i = 0; i < subs; i += 100) {
  const items = Array.from({ length: Math.min(100, subs - i) }, (_, j) => ({
    values: { name: `Watched ${i + j}` },
  }));
  const data = await gql<{ createResources: { resources: { id: string }[] } }>(
    `mutation ($items: [CreateResourcesItem!]!) { createResources(input: { type: "contact", items: $items }) { resources { id } } }`,
    { items },
  );
  ids.push(...data.createResources.resources.map((r) => r.id));
}
await sleep(1000);

// --- subscribers ---------------------------------------------------------------------------------
/**
 * The commit happens between the writer sending a mutation and receiving its response, so each
 * delivery gets two figures: from the response (a lower bound: a delivery that beats the response
 * counts as 0) and from the request (an upper bound, including the mutation's own latency).
 */
let writeCounter = 0;
const sent = new Map<string, number>();
const acked = new Map<string, number>();
const arrived: { title: string; at: number }[] = [];

function onChange(change: { fields: { key: string; value: unknown }[] }) {
  const title = change.fields.find((f) => f.key === "title")?.value;
  if (typeof title === "string") arrived.push({ title, at: performance.now() });
}

let subscribed = false;
const clients: ReturnType<typeof createClient>[] = [];
function subscribe(filter: Record<string, unknown> | null): Promise<void> {
  return new Promise((resolve, reject) => {
    const client = createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
      on: { connected: () => resolve() },
    });
    clients.push(client);
    client.subscribe<{ changes: { fields: { key: string; value: unknown }[] } }>(
      { query: SUBSCRIPTION, variables: { filter } },
      {
        next: (result) => result.data && onChange(result.data.changes),
        error: reject,
        complete: () => {},
      },
    );
  });
}

const rows: Record<string, string | number>[] = [];
rows.push(await writePhase("no subscriptions (write baseline)"));
const rssBeforeSubscribing = rssMb(pid);

const opening = performance.now();
for (let i = 0; i < subs; i += 50) {
  await Promise.all(ids.slice(i, i + 50).map((id) => subscribe({ resourceIds: [id] })));
}
for (let i = 0; i < observers; i++) await subscribe(null);
await sleep(2000);
const rssAfter = rssMb(pid);
const openSeconds = (performance.now() - opening) / 1000;
subscribed = true;

// --- load ----------------------------------------------------------------------------------------
async function writePhase(label: string) {
  arrived.length = 0;
  sent.clear();
  acked.clear();
  const started = performance.now();
  const inflight = new Set<Promise<void>>();
  let writes = 0;
  let errors = 0;
  const interval = 1000 / rate;
  for (let n = 0; performance.now() - started < seconds * 1000; n++) {
    const due = started + n * interval;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    // An open loop with a cap: a server slower than the target rate gets queued writes, not thousands.
    while (inflight.size >= MAX_INFLIGHT) await Promise.race(inflight);
    const title = `w${++writeCounter}`;
    const id = ids[writeCounter % ids.length] as string;
    sent.set(title, performance.now());
    const write = gql(
      `mutation ($id: ID!, $values: JSON) { updateResource(input: { id: $id, values: $values }) { resource { id } } }`,
      { id, values: { title } },
    )
      .then(() => {
        acked.set(title, performance.now());
        writes++;
      })
      .catch((error: unknown) => {
        if (errors++ === 0) console.error("first write error:", String(error).slice(0, 300));
      })
      .finally(() => inflight.delete(write));
    inflight.add(write);
  }
  await Promise.all(inflight);
  const elapsed = (performance.now() - started) / 1000;
  await sleep(3000); // let deliveries drain
  const fromAck = arrived.map((a) => Math.max(0, a.at - (acked.get(a.title) ?? a.at))).sort((a, b) => a - b);
  const fromSend = arrived.map((a) => a.at - (sent.get(a.title) ?? a.at)).sort((a, b) => a - b);
  const expected = subscribed ? writes * (1 + observers) : 0;
  return {
    phase: label,
    "writes/s": (writes / elapsed).toFixed(0),
    "write errors": errors,
    deliveries: `${arrived.length}/${expected}`,
    "p50 ms (ack→client)": percentile(fromAck, 50).toFixed(1),
    "p99 ms (ack→client)": percentile(fromAck, 99).toFixed(1),
    "p50 ms (send→client)": percentile(fromSend, 50).toFixed(1),
    "p99 ms (send→client)": percentile(fromSend, 99).toFixed(1),
    "server RSS MB": rssMb(pid).toFixed(0),
  };
}

rows.push(await writePhase(`${subs + observers} subscriptions`));

// One consumer subscribes to every change and never reads its socket.
const slow = new WebSocket(wsUrl, "graphql-transport-ws");
await new Promise((resolve) => slow.once("open", resolve));
slow.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } }));
await new Promise((resolve) => slow.once("message", resolve));
slow.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query: SUBSCRIPTION } }));
(slow as unknown as { _socket: { pause(): void } })._socket.pause();
await sleep(500);
rows.push(await writePhase(`${subs + observers} + 1 slow consumer`));
slow.terminate();

console.log(
  `${subs} watchers (one record each) + ${observers} observers (everything), each on its own WebSocket; ` +
    `target ${rate} writes/s for ${seconds}s per phase; database: ${process.env.DATABASE_URL ? "PostgreSQL" : "PGlite"}\n`,
);
console.log(table(rows));
console.log(
  `\nmemory: server RSS ${rssBeforeSubscribing.toFixed(0)} MB → ${rssAfter.toFixed(0)} MB with ${subs + observers} idle subscriptions ` +
    `= ${(((rssAfter - rssBeforeSubscribing) * 1024) / (subs + observers)).toFixed(1)} KB per subscription (WebSocket included); opened in ${openSeconds.toFixed(1)} s`,
);

await Promise.all(clients.map((client) => client.dispose()));
await stopProcess(server);
process.exit(0);

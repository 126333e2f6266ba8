/**
 * Issue 6: webhook delivery throughput and latency, on PostgreSQL (two processes need a shared database).
 *
 *   npm run bench:webhooks      # uses BENCH_DATABASE_URL, else TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres
 *
 * 1. Deliveries/s to a local receiver that answers 200 at once: W webhooks each owe N changes (made
 *    while they were disabled), then are enabled; timed until every delivery arrived. With 1 and 2
 *    `plugboard serve` processes.
 * 2. The floor: a bare undici loop POSTing the same bodies to the same receiver, one sequential
 *    loop per webhook (a webhook's deliveries go in order, one at a time), and the same with 16.
 * 3. Commit-to-receipt latency at ~200 writes/s (one webhook, one process): from the mutation's
 *    response to the delivery's arrival.
 *
 *   BENCH_MODE=where npm run bench:webhooks
 *
 * Issue 19: the cost of a `where` predicate per delivery. One process, N contacts written once;
 * each round creates a webhook — with a `where` filter that every contact passes, or without —
 * replays it over the N changes and times until all N arrived, then deletes it. Rounds alternate
 * (BENCH_ROUNDS, default 8), so drift hits both alike; the ratio of the medians is reported.
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { Agent, request } from "undici";
import { startProcess, stopProcess, table } from "./lib/load.ts";

const adminUrl =
  process.env.BENCH_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  "postgres://postgres@127.0.0.1:5432/postgres";
const N = Number(process.env.BENCH_CHANGES ?? 2000);
const WEBHOOKS = Number(process.env.BENCH_WEBHOOKS ?? 4);
const RATE = Number(process.env.BENCH_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const token = "pbk_bench_token_0123456789abcdefghijklmnopqrstuvwxyz";
const cli = fileURLToPath(new URL("../bin/plugboard.mjs", import.meta.url));

// The receiver: answers 200 at once, remembers bodies and arrival times.
const arrivals: { id: string; webhookId: string; resourceId: string; at: number; body: string }[] = [];
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString();
    const payload = JSON.parse(body) as { webhookId?: string; data: { resourceId?: string } };
    arrivals.push({
      id: String(req.headers["webhook-id"] ?? ""),
      webhookId: payload.webhookId ?? "",
      resourceId: payload.data.resourceId ?? "",
      at: performance.now(),
      body,
    });
    res.writeHead(200).end();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

/** API calls share a bounded pool: an open loop that outruns the server queues here, not in sockets. */
const api = new Agent({ connections: 32 });

async function gql<T>(base: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await request(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
    dispatcher: api,
    headersTimeout: 120_000,
    bodyTimeout: 120_000,
  });
  const body = (await response.body.json()) as { data?: T; errors?: unknown };
  if (body.errors || !body.data) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

/** Writes `count` contacts through createResources, 100 a call: `count` changes to deliver. */
async function createContacts(base: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 100) {
    const items = Array.from({ length: Math.min(100, count - i) }, (_, j) => ({
      values: { name: `Contact ${i + j}`, email: `c${i + j}@example.com` },
    }));
    await gql(
      base,
      `mutation($items: [CreateResourcesItem!]!) { createResources(input: { type: "contact", items: $items }) { resources { id } } }`,
      { items },
    );
  }
}

async function withDatabase<T>(run: (url: string) => Promise<T>): Promise<T> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  const name = `plugboard_bench_${randomBytes(4).toString("hex")}`;
  await admin.unsafe(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  try {
    return await run(url.toString());
  } finally {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

async function startServers(databaseUrl: string, count: number) {
  const env = {
    DATABASE_URL: databaseUrl,
    PLUGBOARD_ADMIN_TOKEN: token,
    PLUGBOARD_WEBHOOK_ALLOW_PRIVATE: "true",
    PLUGBOARD_LOG_LEVEL: "warn",
  };
  const servers = [];
  for (let i = 0; i < count; i++) {
    const port = 4620 + i;
    servers.push({
      base: `http://127.0.0.1:${port}`,
      child: await startProcess(
        [cli, "serve"],
        { ...env, PORT: String(port) },
        `http://127.0.0.1:${port}/readyz`,
      ),
    });
  }
  return servers;
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function throughput(processes: number) {
  return withDatabase(async (databaseUrl) => {
    const servers = await startServers(databaseUrl, processes);
    const base = servers[0]?.base ?? "";
    try {
      const ids: string[] = [];
      for (let i = 0; i < WEBHOOKS; i++) {
        const created = await gql<{ createWebhook: { webhook: { id: string } } }>(
          base,
          `mutation($url: String!) { createWebhook(input: { url: $url, filter: { types: ["contact"] } }) { webhook { id } } }`,
          { url: hookUrl },
        );
        ids.push(created.createWebhook.webhook.id);
        await gql(
          base,
          `mutation($id: ID!) { updateWebhook(input: { id: $id, enabled: false }) { webhook { id } } }`,
          {
            id: created.createWebhook.webhook.id,
          },
        );
      }
      await createContacts(base, N);
      await waitFor(async () => {
        const { changes } = await gql<{ changes: { headCursor: string } }>(
          base,
          "{ changes(last: 1) { headCursor } }",
        );
        return Number(changes.headCursor) >= N;
      });
      arrivals.length = 0;
      const started = performance.now();
      await Promise.all(
        ids.map((id) =>
          gql(
            base,
            `mutation($id: ID!) { updateWebhook(input: { id: $id, enabled: true }) { webhook { id } } }`,
            { id },
          ),
        ),
      );
      await waitFor(() => arrivals.length >= WEBHOOKS * N);
      const seconds = (performance.now() - started) / 1000;
      await new Promise((resolve) => setTimeout(resolve, 500));
      const duplicates = arrivals.length - new Set(arrivals.map((a) => a.id)).size;
      return { rate: (WEBHOOKS * N) / seconds, duplicates, bodies: arrivals.map((a) => a.body) };
    } finally {
      for (const s of servers) await stopProcess(s.child);
    }
  });
}

/** The floor: the same bodies POSTed with undici in `lanes` sequential loops over keep-alive. */
async function floor(bodies: string[], lanes: number): Promise<number> {
  const agent = new Agent({ connections: lanes });
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      for (let i = next++; i < bodies.length; i = next++) {
        const response = await request(hookUrl, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: bodies[i],
          dispatcher: agent,
        });
        await response.body.dump();
      }
    }),
  );
  const rate = bodies.length / ((performance.now() - started) / 1000);
  await agent.close();
  return rate;
}

async function latency(withWebhook: boolean) {
  return withDatabase(async (databaseUrl) => {
    const servers = await startServers(databaseUrl, 1);
    const base = servers[0]?.base ?? "";
    try {
      if (withWebhook) {
        await gql(
          base,
          `mutation($url: String!) { createWebhook(input: { url: $url, filter: { types: ["contact"] } }) { webhook { id } } }`,
          { url: hookUrl },
        );
      }
      arrivals.length = 0;
      const committed = new Map<string, number>();
      const total = RATE * SECONDS;
      const started = performance.now();
      const writes: Promise<void>[] = [];
      for (let i = 0; i < total; i++) {
        const due = started + (i * 1000) / RATE;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        writes.push(
          gql<{ createResource: { resource: { id: string } } }>(
            base,
            `mutation($name: String!) { createResource(input: { type: "contact", values: { name: $name } }) { resource { id } } }`,
            { name: `Latency ${i}` },
          ).then((d) => {
            committed.set(d.createResource.resource.id, performance.now());
          }),
        );
      }
      await Promise.all(writes);
      const achieved = total / ((performance.now() - started) / 1000);
      if (!withWebhook) return { achieved, p50: Number.NaN, p99: Number.NaN, max: Number.NaN };
      await waitFor(() => arrivals.length >= total, 120_000);
      const samples = arrivals
        .map((a) => a.at - (committed.get(a.resourceId) ?? Number.NaN))
        .filter((x) => Number.isFinite(x))
        .sort((a, b) => a - b);
      const pct = (p: number) =>
        samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))] ?? Number.NaN;
      return { achieved, p50: pct(50), p99: pct(99), max: samples[samples.length - 1] ?? Number.NaN };
    } finally {
      for (const s of servers) await stopProcess(s.child);
    }
  });
}

/** Alternating rounds of a webhook with and without a `where` predicate over the same N changes. */
async function wherePredicateCost() {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 8);
  const where = {
    and: [
      { field: "email", contains: "@example.com" },
      { field: "name", startsWith: "contact" },
    ],
  };
  return withDatabase(async (databaseUrl) => {
    const [server] = await startServers(databaseUrl, 1);
    const base = server?.base ?? "";
    try {
      const { changes } = await gql<{ changes: { headCursor: string } }>(
        base,
        "{ changes(first: 0) { headCursor } }",
      );
      const start = changes.headCursor;
      await createContacts(base, N);
      const seconds: Record<"plain" | "where", number[]> = { plain: [], where: [] };
      for (let round = 0; round < rounds; round++) {
        const kind = round % 2 === 0 ? "plain" : "where";
        const filter = kind === "where" ? { types: ["contact"], where } : { types: ["contact"] };
        const created = await gql<{ createWebhook: { webhook: { id: string } } }>(
          base,
          `mutation($url: String!, $filter: ChangeFilter) { createWebhook(input: { url: $url, filter: $filter }) { webhook { id } } }`,
          { url: hookUrl, filter },
        );
        const id = created.createWebhook.webhook.id;
        const began = performance.now();
        await gql(
          base,
          `mutation($id: ID!, $after: String!) { replayWebhook(input: { id: $id, after: $after }) { webhook { id } } }`,
          {
            id,
            after: start,
          },
        );
        await waitFor(() => arrivals.filter((a) => a.webhookId === id).length >= N);
        seconds[kind].push((performance.now() - began) / 1000);
        await gql(base, `mutation($id: ID!) { deleteWebhook(input: { id: $id }) { deletedId } }`, { id });
      }
      return seconds;
    } finally {
      if (server) await stopProcess(server.child);
    }
  });
}

if (process.env.BENCH_MODE === "where") {
  const seconds = await wherePredicateCost();
  receiver.close();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  const perDelivery = (xs: number[]) => (median(xs) / N) * 1e6;
  console.log(`
one webhook at a time replaying ${N} changes, alternating rounds
`);
  console.log(
    table(
      (["plain", "where"] as const).map((kind) => ({
        filter: kind === "where" ? "types + where (2 conditions)" : "types only",
        rounds: seconds[kind].length,
        "median s": median(seconds[kind]).toFixed(3),
        "µs/delivery": perDelivery(seconds[kind]).toFixed(0),
        "deliveries/s": (N / median(seconds[kind])).toFixed(0),
      })),
    ),
  );
  console.log(`
per-delivery cost ratio, where / plain: ${(median(seconds.where) / median(seconds.plain)).toFixed(3)}`);
  process.exit(0);
}

const one = await throughput(1);
const two = await throughput(2);
const floorSequential = await floor(one.bodies, WEBHOOKS);
const floorWide = await floor(one.bodies, 16);
const baseline = await latency(false);
const lat = await latency(true);
receiver.close();

console.log(`\n${WEBHOOKS} webhooks × ${N} changes, receiver answering 200 at once\n`);
console.log(
  table([
    { what: "plugboard, 1 process", "deliveries/s": one.rate.toFixed(0), duplicates: one.duplicates },
    { what: "plugboard, 2 processes", "deliveries/s": two.rate.toFixed(0), duplicates: two.duplicates },
    {
      what: `bare undici, ${WEBHOOKS} sequential loops (floor)`,
      "deliveries/s": floorSequential.toFixed(0),
      duplicates: "-",
    },
    { what: "bare undici, 16 loops", "deliveries/s": floorWide.toFixed(0), duplicates: "-" },
  ]),
);
console.log(
  `\nwrites/s achieved with no webhook (same open loop, target ${RATE}): ${baseline.achieved.toFixed(0)}`,
);
console.log(
  `commit-to-receipt at ${lat.achieved.toFixed(0)} writes/s (target ${RATE}) for ${SECONDS} s: ` +
    `p50 ${lat.p50.toFixed(1)} ms, p99 ${lat.p99.toFixed(1)} ms, max ${lat.max.toFixed(1)} ms`,
);
process.exit(0);

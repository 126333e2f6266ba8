/**
 * Issue 3: reads and writes at scale, on PostgreSQL. Seeds one workspace with 1,000 accounts and
 * 1,000,000 contacts (custom `score` INTEGER, `tier` SELECT, `ref` TEXT), then measures in one run:
 *  1. `resources(type: "contact", where: {field: "email", eq})` and the same on the custom TEXT field:
 *     latency p50/p99 (sequential requests) and the query plan;
 *  2. a page of 50 contacts ordered by score with their linked accounts: req/s at 32 connections and
 *     server CPU per request, against the same SQL in a bare node:http + postgres.js server (floor);
 *  3. `createResource` req/s at 32 connections against a bare INSERT of the same row (floor).
 *
 * Throughput cases alternate Plugboard and its floor: BENCH_SECONDS (20) each, in BENCH_ROUNDS (4).
 *
 *   npm run bench:resources            (BENCH_CONTACTS=100000 for a quicker run)
 */
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { load, postGraphQL, startProcess, stopProcess, table } from "./lib/load.ts";
import { cpuSeconds, freshDatabase } from "./lib/pg.ts";

const CONTACTS = Number(process.env.BENCH_CONTACTS ?? 1_000_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const token = "pbk_bench_token_0123456789abcdefghijklmnopqrstuvwxyz";
const cli = fileURLToPath(new URL("../bin/plugboard.mjs", import.meta.url));
const floorScript = fileURLToPath(new URL("./floor-server.ts", import.meta.url));

const url = await freshDatabase("plugboard_bench_resources");
// Server time per request comes from Plugboard's own request log (`durationMs`: arrival to last byte).
let serverTimes: number[] | null = null;
const plugboard = await startProcess(
  [cli, "serve"],
  { PORT: "4701", DATABASE_URL: url, PLUGBOARD_ADMIN_TOKEN: token, PLUGBOARD_LOG_LEVEL: "info" },
  "http://127.0.0.1:4701/readyz",
  (line) => {
    if (!serverTimes || !line.includes('"msg":"request"')) return;
    serverTimes.push((JSON.parse(line) as { durationMs: number }).durationMs);
  },
);
const endpoint = "http://127.0.0.1:4701/graphql";
const gql = (query: string, variables: Record<string, unknown> = {}) =>
  postGraphQL(endpoint, token, query, variables);

await gql(
  `mutation { createField(input: { resourceType: "contact", key: "score", name: "Score", type: INTEGER }) { field { id } } }`,
);
await gql(
  `mutation { createField(input: { resourceType: "contact", key: "tier", name: "Tier", type: SELECT, options: ["gold", "silver", "bronze"] }) { field { id } } }`,
);
await gql(
  `mutation { createField(input: { resourceType: "contact", key: "ref", name: "Ref", type: TEXT }) { field { id } } }`,
);
const meta = await gql(
  `{ viewer { workspace { id } member { id } } contact: resourceType(key: "contact") { id fields { id key } } account: resourceType(key: "account") { id } }`,
);
const fieldId = (key: string) => meta.contact.fields.find((f: { key: string }) => f.key === key).id as string;
const ws = meta.viewer.workspace.id as string;
const member = meta.viewer.member.id as string;
const [EMAIL, SCORE, TIER, REF, ACCOUNTS] = ["email", "score", "tier", "ref", "accounts"].map(fieldId) as [
  string,
  string,
  string,
  string,
  string,
];

// Seeding a million rows through the API would measure the seeding, not the reads: SQL it is.
const sql = postgres(url, { max: 4, onnotice: () => {} });
const started = Date.now();
await sql.unsafe(`insert into resources (id, workspace_id, type_id, name, created_by_id, values)
  select 'res_acct' || lpad(g::text, 7, '0'), '${ws}', '${meta.account.id}', 'Account ' || g, '${member}', '{}'::jsonb
  from generate_series(1, 1000) g`);
for (let from = 1; from <= CONTACTS; from += 200_000) {
  const to = Math.min(CONTACTS, from + 199_999);
  await sql.unsafe(`insert into resources (id, workspace_id, type_id, name, created_by_id, values)
    select 'res_cont' || lpad(g::text, 8, '0'), '${ws}', '${meta.contact.id}', 'Contact ' || g, '${member}',
      jsonb_build_object('${EMAIL}', 'c' || g || '@example.com', '${SCORE}', (g::bigint * 7919) % 100000,
        '${TIER}', (array['gold','silver','bronze'])[g % 3 + 1], '${REF}', 'ref-' || g,
        '${ACCOUNTS}', jsonb_build_array('res_acct' || lpad((g % 1000 + 1)::text, 7, '0')))
    from generate_series(${from}, ${to}) g`);
}
await sql.unsafe("vacuum analyze resources");
console.log(`seeded ${CONTACTS} contacts in ${((Date.now() - started) / 1000).toFixed(0)} s`);

const percentile = (sorted: number[], p: number) => sorted[Math.floor(sorted.length * p)]?.toFixed(2) ?? "";
async function latency(query: string, variables: () => Record<string, unknown>, n = 300) {
  for (let i = 0; i < 20; i++) await gql(query, variables()); // warm: plan cache, JIT
  await new Promise((resolve) => setTimeout(resolve, 1_000)); // let the warm-up's log lines drain
  const times: number[] = [];
  serverTimes = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const data = await gql(query, variables());
    times.push(performance.now() - t0);
    if (i === 0 && data.resources.nodes.length !== 1) throw new Error("expected one match");
  }
  await new Promise((resolve) => setTimeout(resolve, 1_000)); // the log is flushed every 500 ms
  const server = serverTimes.sort((a, b) => a - b);
  serverTimes = null;
  times.sort((a, b) => a - b);
  return {
    p50: percentile(times, 0.5),
    p99: percentile(times, 0.99),
    serverP50: percentile(server, 0.5),
    serverP99: percentile(server, 0.99),
    logged: server.length,
  };
}
const rand = () => 1 + Math.floor(Math.random() * CONTACTS);
const byEmail = await latency(
  `query($v: JSON) { resources(type: "contact", where: { field: "email", eq: $v }) { nodes { id name } } }`,
  () => ({ v: `c${rand()}@example.com` }),
);
const byRef = await latency(
  `query($v: JSON) { resources(type: "contact", where: { field: "ref", eq: $v }) { nodes { id name } } }`,
  () => ({ v: `ref-${rand()}` }),
);
for (const [label, field, value] of [
  ["email", EMAIL, "c4242@example.com"],
  ["ref", REF, "ref-4242"],
]) {
  const plan = await sql.unsafe(
    `explain (analyze, costs off) select * from resources where workspace_id = '${ws}' and type_id = '${meta.contact.id}'
     and deleted_at is null and values @> '{"${field}": "${value}"}'::jsonb order by id limit 51`,
  );
  console.log(`\nplan of the ${label} lookup:\n${plan.map((r) => `  ${r["QUERY PLAN"]}`).join("\n")}`);
}
console.log(
  table([
    ...[
      ["where email eq (built-in)", byEmail],
      ["where ref eq (custom TEXT)", byRef],
    ].map(([query, r]) => ({
      query: query as string,
      "server p50 ms": (r as typeof byEmail).serverP50,
      "server p99 ms": (r as typeof byEmail).serverP99,
      "round trip p50 ms": (r as typeof byEmail).p50,
      "round trip p99 ms": (r as typeof byEmail).p99,
    })),
  ]),
);

const floor = await startProcess(
  [process.execPath, "--max-semi-space-size=64", "--import", "tsx", floorScript],
  { PORT: "4702", DATABASE_URL: url, WORKSPACE: ws, CONTACT_TYPE: meta.contact.id, SCORE, ACCOUNTS, EMAIL },
  "http://127.0.0.1:4702/",
);
const PAGE = JSON.stringify({
  query: `{ resources(type: "contact", orderBy: [{ field: "score" }], first: 50) { nodes { name values linked(field: "accounts") { nodes { name } } } } }`,
});
const auth = { authorization: `Bearer ${token}` };
const rows: Record<string, string | number>[] = [];
/**
 * Plugboard and its floor in alternating rounds (this VM's speed drifts by tens of percent within
 * minutes; alternating exposes both to the same drift). Each is warmed up first.
 */
async function compare(
  cases: { label: string; pid: number; run: (seconds: number) => ReturnType<typeof load> }[],
): Promise<number[]> {
  for (const c of cases) await c.run(3); // V8's JIT, compiled operations, prepared statements
  const totals = cases.map(() => ({ requests: 0, cpu: 0, p99: 0 }));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, c] of cases.entries()) {
      const cpu0 = await cpuSeconds(c.pid);
      const result = await c.run(SECONDS / ROUNDS);
      const total = totals[i] as (typeof totals)[number];
      total.cpu += (await cpuSeconds(c.pid)) - cpu0;
      total.requests += result.requestsPerSecond * (SECONDS / ROUNDS);
      total.p99 = Math.max(total.p99, result.p99);
      if (result.non2xx || result.errors)
        throw new Error(`${c.label}: ${result.non2xx} non-2xx, ${result.errors} errors`);
    }
  }
  return cases.map((c, i) => {
    const total = totals[i] as (typeof totals)[number];
    rows.push({
      case: c.label,
      "req/s": Math.round(total.requests / SECONDS),
      "p99 ms (worst round)": total.p99,
      "server CPU ms/req": ((total.cpu * 1000) / total.requests).toFixed(2),
    });
    return total.requests / SECONDS;
  });
}
/** One Plugboard operation against its floor endpoint; returns [plugboard req/s, floor req/s]. */
function againstFloor(what: string, floorLabel: string, body: string, floorPath: string) {
  return compare([
    {
      label: `${what}: plugboard`,
      pid: plugboard.pid as number,
      run: (seconds) => load({ url: endpoint, body, headers: auth, seconds }),
    },
    {
      label: floorLabel,
      pid: floor.pid as number,
      run: (seconds) => load({ url: `http://127.0.0.1:4702${floorPath}`, body: "{}", seconds }),
    },
  ]);
}
const [pagePlugboard = 0, pageFloor = 1] = await againstFloor(
  "page of 50 by score + accounts",
  "page of 50 by score + accounts: floor",
  PAGE,
  "/page",
);
const CREATE = JSON.stringify({
  query: `mutation { createResource(input: { type: "contact", values: { name: "Bench", email: "bench@example.com" } }) { resource { id } } }`,
});
const [createPlugboard = 0, createFloor = 1] = await againstFloor(
  "createResource",
  "bare INSERT: floor",
  CREATE,
  "/insert",
);
console.log(`\n${table(rows)}`);
console.log(
  `\npage: plugboard/floor = ${(pagePlugboard / pageFloor).toFixed(2)} (aim ≥ 0.5); create: plugboard/floor = ${(createPlugboard / createFloor).toFixed(2)}`,
);
await stopProcess(floor);
await stopProcess(plugboard);
await sql.end();

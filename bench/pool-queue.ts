/**
 * postgres.js under sustained load: `select 1` from 32 concurrent callers through a pool of 3, in
 * BENCH_WINDOWS windows of BENCH_SECONDS. A pool whose connections are all busy rotates them through
 * its busy queue on every query; unpatched, that queue grew a slot per query and each query scanned
 * them all (test/kernel/postgresQueue.test.ts), so CPU per query climbed window after window.
 * Patched (patches/postgres+3.4.9.patch), the last window costs what the first does.
 *
 *   npm run bench:pool   # BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres
 */
import postgres from "postgres";
import { table } from "./lib/load.ts";
import { adminUrl } from "./lib/pg.ts";

const WINDOWS = Number(process.env.BENCH_WINDOWS ?? 8);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const sql = postgres(adminUrl, { max: 3 });
let done = 0;
let stopping = false;
const callers = Array.from({ length: 32 }, async () => {
  while (!stopping) {
    await sql`select 1`;
    done++;
  }
});

const rows: Record<string, string | number>[] = [];
for (let window = 1; window <= WINDOWS; window++) {
  const [queries, started, cpu] = [done, performance.now(), process.cpuUsage()];
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  const { user, system } = process.cpuUsage(cpu);
  const count = done - queries;
  rows.push({
    window,
    "queries/s": Math.round(count / ((performance.now() - started) / 1000)),
    "client CPU µs/query": ((user + system) / count).toFixed(1),
  });
}
stopping = true;
await Promise.all(callers);
await sql.end();
console.log(table(rows));
const first = Number(rows[0]?.["client CPU µs/query"]);
const last = Number(rows.at(-1)?.["client CPU µs/query"]);
console.log(`\nlast window ÷ first, client CPU per query: ${(last / first).toFixed(2)}`);

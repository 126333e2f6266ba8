/**
 * Issue 2: the cost of authentication and context. Requests/s and p99 of
 * `{ viewer { member { id } } }` with an API key against Plugboard, and the same query against a bare
 * graphql-yoga server (no auth, no database), alternating in one run.
 *
 *   npm run bench:auth                         # Plugboard on embedded PGlite
 *   DATABASE_URL=postgres://… npm run bench:auth   # on PostgreSQL
 */
import { fileURLToPath } from "node:url";
import { load, startProcess, stopProcess, table } from "./lib/load.ts";

const token = "pbk_bench_token_0123456789abcdefghijklmnopqrstuvwxyz";
const body = JSON.stringify({ query: "{ viewer { member { id } } }" });
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const tsx = fileURLToPath(new URL("../node_modules/.bin/tsx", import.meta.url));
const cli = fileURLToPath(new URL("../bin/plugboard.mjs", import.meta.url));
const bare = fileURLToPath(new URL("./bare-yoga.ts", import.meta.url));

const rows: Record<string, string | number>[] = [];
const totals = { bare: 0, plugboard: 0, bareP99: 0, plugboardP99: 0 };
for (let round = 1; round <= rounds; round++) {
  const bareServer = await startProcess(
    [tsx, bare],
    { PORT: "4601", NODE_ENV: "production" },
    "http://127.0.0.1:4601/graphql",
  );
  const b = await load({ url: "http://127.0.0.1:4601/graphql", body, seconds });
  await stopProcess(bareServer);
  const plugboard = await startProcess(
    [process.execPath, cli, "serve"],
    {
      PORT: "4602",
      PLUGBOARD_DATA_DIR: "memory://",
      PLUGBOARD_ADMIN_TOKEN: token,
      PLUGBOARD_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "info",
    },
    "http://127.0.0.1:4602/readyz",
  );
  const p = await load({
    url: "http://127.0.0.1:4602/graphql",
    body,
    seconds,
    headers: { authorization: `Bearer ${token}` },
  });
  await stopProcess(plugboard);
  if (p.non2xx || p.errors) throw new Error(`plugboard answered ${p.non2xx} non-2xx, ${p.errors} errors`);
  rows.push({ round, server: "bare yoga", "req/s": b.requestsPerSecond, "p50 ms": b.p50, "p99 ms": b.p99 });
  rows.push({ round, server: "plugboard", "req/s": p.requestsPerSecond, "p50 ms": p.p50, "p99 ms": p.p99 });
  totals.bare += b.requestsPerSecond;
  totals.plugboard += p.requestsPerSecond;
  totals.bareP99 += b.p99;
  totals.plugboardP99 += p.p99;
}
console.log(table(rows));
const overhead = 1 - totals.plugboard / totals.bare;
console.log(
  `\nthroughput: plugboard ${(totals.plugboard / rounds).toFixed(0)} req/s vs bare ${(totals.bare / rounds).toFixed(0)} req/s` +
    ` → overhead ${(overhead * 100).toFixed(1)}% (target < 25%); p99 ${(totals.plugboardP99 / rounds).toFixed(1)} ms vs ${(totals.bareP99 / rounds).toFixed(1)} ms`,
);

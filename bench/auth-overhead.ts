/**
 * Issue 2: the cost of authentication and context. Requests/s and p99 of
 * `{ viewer { member { id } } }` with an API key against Plugboard, and the same query against a bare
 * graphql-yoga server (no auth, no database), alternating in one run. The bare server runs with Yoga's
 * body-size stream off, as Plugboard does, so the difference is auth and context alone; a Yoga with
 * its defaults is measured too, for reference. Both run with Node's --max-semi-space-size=64, as the
 * `plugboard` command does.
 *
 *   npm run bench:auth                         # Plugboard on embedded PGlite
 *   DATABASE_URL=postgres://… npm run bench:auth   # on PostgreSQL
 */
import { fileURLToPath } from "node:url";
import { load, startProcess, stopProcess, table } from "./lib/load.ts";
import { cpuSeconds } from "./lib/pg.ts";

const token = "pbk_bench_token_0123456789abcdefghijklmnopqrstuvwxyz";
const body = JSON.stringify({ query: "{ viewer { member { id } } }" });
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const cli = fileURLToPath(new URL("../bin/plugboard.mjs", import.meta.url));
const bare = fileURLToPath(new URL("./bare-yoga.ts", import.meta.url));

type Server = "yoga defaults" | "bare yoga" | "plugboard";
const servers: Record<
  Server,
  { command: string[]; env: Record<string, string>; url: string; ready: string }
> = {
  "yoga defaults": {
    command: [process.execPath, "--max-semi-space-size=64", "--import", "tsx", bare],
    env: { PORT: "4601", NODE_ENV: "production", BARE_BODY_LIMIT: "on" },
    url: "http://127.0.0.1:4601/graphql",
    ready: "http://127.0.0.1:4601/graphql",
  },
  "bare yoga": {
    command: [process.execPath, "--max-semi-space-size=64", "--import", "tsx", bare],
    env: { PORT: "4601", NODE_ENV: "production", BARE_BODY_LIMIT: "off" },
    url: "http://127.0.0.1:4601/graphql",
    ready: "http://127.0.0.1:4601/graphql",
  },
  plugboard: {
    command: [cli, "serve"],
    env: {
      PORT: "4602",
      PLUGBOARD_DATA_DIR: "memory://",
      PLUGBOARD_ADMIN_TOKEN: token,
      PLUGBOARD_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "info",
    },
    url: "http://127.0.0.1:4602/graphql",
    ready: "http://127.0.0.1:4602/readyz",
  },
};

const rows: Record<string, string | number>[] = [];
const totals = Object.fromEntries(
  Object.keys(servers).map((name) => [name, { rps: 0, p99: 0, cpuMs: 0 }]),
) as Record<Server, { rps: number; p99: number; cpuMs: number }>;
for (let round = 1; round <= rounds; round++) {
  for (const [name, server] of Object.entries(servers) as [Server, (typeof servers)[Server]][]) {
    const child = await startProcess(server.command, server.env, server.ready);
    const headers: Record<string, string> = name === "plugboard" ? { authorization: `Bearer ${token}` } : {};
    // Warm up first (JIT, caches), so the measured seconds compare steady states.
    await load({ url: server.url, body, seconds: 3, headers });
    const cpu0 = await cpuSeconds(child.pid as number);
    const result = await load({
      url: server.url,
      body,
      seconds,
      headers,
    });
    const cpuMs =
      (((await cpuSeconds(child.pid as number)) - cpu0) * 1000) / (result.requestsPerSecond * seconds);
    await stopProcess(child);
    if (result.non2xx || result.errors)
      throw new Error(`${name} answered ${result.non2xx} non-2xx, ${result.errors} errors`);
    rows.push({
      round,
      server: name,
      "req/s": Math.round(result.requestsPerSecond),
      "p50 ms": result.p50,
      "p99 ms": result.p99,
      "server CPU ms/req": cpuMs.toFixed(3),
    });
    totals[name].rps += result.requestsPerSecond / rounds;
    totals[name].p99 += result.p99 / rounds;
    totals[name].cpuMs += cpuMs / rounds;
  }
}
console.log(table(rows));
const { plugboard, "bare yoga": bareYoga, "yoga defaults": defaults } = totals;
console.log(
  `\nthroughput: plugboard ${plugboard.rps.toFixed(0)} req/s vs bare ${bareYoga.rps.toFixed(0)} req/s` +
    ` → overhead ${((1 - plugboard.rps / bareYoga.rps) * 100).toFixed(1)}% (target < 25%);` +
    ` p99 ${plugboard.p99.toFixed(1)} ms vs ${bareYoga.p99.toFixed(1)} ms;` +
    ` server CPU ${plugboard.cpuMs.toFixed(3)} vs ${bareYoga.cpuMs.toFixed(3)} ms/req` +
    ` (+${((plugboard.cpuMs / bareYoga.cpuMs - 1) * 100).toFixed(1)}%).` +
    `\nFor reference, graphql-yoga with its defaults: ${defaults.rps.toFixed(0)} req/s, ${defaults.cpuMs.toFixed(3)} ms/req.`,
);

/**
 * Instructions per request of Plugboard's server process, counted by valgrind's callgrind, against
 * another checkout in the same session: a count does not move with what else the machine is doing,
 * where req/s and CPU time moved by up to 2× between days and ±20% between interleaved runs on a busy
 * one. It is not exact either (V8's garbage collection and compilation come when they come): this
 * checkout against an identical one gave 0.98 and 1.05, then 1.07 and 0.95, so read a change of
 * less than ~10% as noise.
 *
 *   npm run bench:instructions                                         # this checkout
 *   BENCH_BASELINE=/tmp/before npm run bench:instructions              # and another one: the ratio
 *
 * (`git worktree add /tmp/before <commit>` makes a baseline; it needs its own node_modules, e.g. a
 * symlink to this checkout's.) Each checkout gets bench:peers' data (BENCH_CONTACTS contacts, 100,000)
 * in a database of its own, then serves it under callgrind with `--single-threaded` (V8 compiles and
 * collects garbage on the main thread: the count includes them).
 * Per operation (BENCH_OPS: list, email, page, create; default list,email): BENCH_WARMUP requests
 * uncounted (1,000), then BENCH_REQUESTS counted (1,000), one at a time, every response checked.
 * The server's background work runs meanwhile, slowed down as much as the requests: its rate is
 * counted over an idle interval first and taken off each operation's count for the time it took.
 *
 * What it leaves out: the kernel's work (socket writes: ~15–20% of a request's CPU time in profiles)
 * and PostgreSQL's (bench:peers measures it). An instruction is not a nanosecond: use this to
 * compare two versions of the server, and bench:peers for what a client sees.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { postGraphQL, startProcess, stopProcess, table } from "./lib/load.ts";
import { freshDatabase } from "./lib/pg.ts";
import { check, collectCursors, type OperationKey, type Peer, request } from "./peers/operations.ts";
import { seedPlugboard } from "./peers/seed.ts";

const CONTACTS = Number(process.env.BENCH_CONTACTS ?? 100_000);
const OPS = (process.env.BENCH_OPS ?? "list,email").split(",") as OperationKey[];
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 1_000);
/** Seconds of idle counting: the background work's rate (sequencer sweeps, webhook polls). */
const IDLE_SECONDS = 10;
const token = "pbk_bench_token_0123456789abcdefghijklmnopqrstuvwxyz";
const here = resolve(fileURLToPath(new URL("..", import.meta.url)));
const checkouts = [here, ...(process.env.BENCH_BASELINE ? [resolve(process.env.BENCH_BASELINE)] : [])];

/** A server of `checkout` on `port`, plain or under callgrind (writing its counts to `out`). */
function serve(checkout: string, port: number, databaseUrl: string, out?: string) {
  const node = [process.execPath, "--max-semi-space-size=64", join(checkout, "bin/plugboard.mjs"), "serve"];
  const command = out
    ? [
        "valgrind",
        "--tool=callgrind",
        "--quiet",
        "--instr-atstart=no",
        // V8 writes the code it runs into memory it maps: re-read it when it changes.
        "--smc-check=all-non-file",
        `--callgrind-out-file=${out}`,
        node[0] as string,
        "--single-threaded",
        ...node.slice(1),
      ]
    : node;
  return startProcess(
    command,
    { DATABASE_URL: databaseUrl, PLUGBOARD_ADMIN_TOKEN: token, PORT: String(port), LOG_LEVEL: "warn" },
    `http://127.0.0.1:${port}/readyz`,
    undefined,
    out ? 600_000 : 30_000,
  );
}

const graphqlAt = (origin: string) => (query: string, variables?: Record<string, unknown>) =>
  postGraphQL(`${origin}/graphql`, token, query, variables);

/** Loads bench:peers' data into `databaseUrl` through a plain server of `checkout` (its migrations). */
async function seed(checkout: string, databaseUrl: string): Promise<void> {
  const server = await serve(checkout, 4851, databaseUrl);
  try {
    await seedPlugboard(databaseUrl, CONTACTS, graphqlAt("http://127.0.0.1:4851"));
  } finally {
    await stopProcess(server);
  }
}

/**
 * Sends `count` requests of `op`, one at a time (so no two runs batch them differently), and throws
 * on the first wrong answer.
 */
async function fire(peer: Peer, op: OperationKey, count: number): Promise<void> {
  const { url, body } = request(peer, op, CONTACTS);
  for (let i = 0; i < count; i++) {
    const connection: Record<string, unknown> = {};
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...peer.headers },
      body: body(connection),
    });
    const text = await response.text();
    if (!check(peer, op, text, connection)) throw new Error(`${op}: wrong answer ${text.slice(0, 300)}`);
  }
}

/** The `totals:` of the newest callgrind dump of `out` (each dump counts since the one before). */
function lastDumpTotal(out: string): number {
  const dir = dirname(out);
  const base = basename(out);
  const dumps = readdirSync(dir)
    .filter((f) => f.startsWith(`${base}.`))
    .sort((a, b) => Number(a.slice(base.length + 1)) - Number(b.slice(base.length + 1)));
  const text = readFileSync(join(dir, dumps[dumps.length - 1] as string), "utf8");
  const total = /^totals: (\d+)/m.exec(text)?.[1] ?? /^summary: (\d+)/m.exec(text)?.[1];
  if (!total) throw new Error(`no totals in ${dumps[dumps.length - 1]}`);
  return Number(total);
}

async function measure(checkout: string, index: number): Promise<Map<OperationKey, number>> {
  const databaseUrl = await freshDatabase(`plugboard_bench_instructions_${index}`);
  await seed(checkout, databaseUrl);
  const out = join(tmpdir(), `plugboard-callgrind-${process.pid}-${index}`);
  const port = 4852 + index;
  const server = await serve(checkout, port, databaseUrl, out);
  const pid = String(server.pid);
  const control = (...args: string[]) =>
    execFileSync("callgrind_control", [...args, pid], { stdio: "ignore" });
  const counts = new Map<OperationKey, number>();
  try {
    const peer: Peer = {
      label: checkout,
      kind: "plugboard",
      origin: `http://127.0.0.1:${port}`,
      headers: { authorization: `Bearer ${token}` },
      pid: server.pid as number,
      cursors: [],
    };
    if (OPS.includes("page"))
      peer.cursors = await collectCursors(peer, CONTACTS, 200, graphqlAt(peer.origin));
    /** Counts `work` (instructions and seconds), from a callgrind dump of just it. */
    const counted = async (work: () => Promise<unknown>) => {
      control("--instr=on");
      const started = performance.now();
      await work();
      const seconds = (performance.now() - started) / 1000;
      control("--instr=off");
      control("--dump");
      return { instructions: lastDumpTotal(out), seconds };
    };
    await fire(peer, OPS[0] as OperationKey, 20);
    const idle = await counted(() => new Promise((done) => setTimeout(done, IDLE_SECONDS * 1000)));
    const background = idle.instructions / idle.seconds;
    console.log(`${checkout} idle: ${Math.round(background).toLocaleString("en")} instructions/s`);
    for (const op of OPS) {
      await fire(peer, op, WARMUP);
      const { instructions, seconds } = await counted(() => fire(peer, op, REQUESTS));
      counts.set(op, (instructions - background * seconds) / REQUESTS);
      console.log(
        `${checkout} ${op}: ${Math.round(counts.get(op) as number).toLocaleString("en")} instructions/request (${seconds.toFixed(0)} s, background ${((100 * background * seconds) / instructions).toFixed(1)}%)`,
      );
    }
  } finally {
    await stopProcess(server);
    for (const f of readdirSync(tmpdir()))
      if (f.startsWith(`plugboard-callgrind-${process.pid}-${index}`)) rmSync(join(tmpdir(), f));
  }
  return counts;
}

const results: Map<OperationKey, number>[] = [];
for (const [i, checkout] of checkouts.entries()) results.push(await measure(checkout, i));

const rows = OPS.map((op) => {
  const row: Record<string, string> = { operation: op };
  for (const [i, checkout] of checkouts.entries())
    row[i === 0 ? "this checkout" : checkout] = `${((results[i]?.get(op) ?? 0) / 1e6).toFixed(3)} M`;
  if (checkouts.length > 1)
    row["this ÷ baseline"] = ((results[0]?.get(op) ?? 0) / (results[1]?.get(op) ?? 1)).toFixed(3);
  return row;
});
console.log(
  `\nInstructions per request of the server process (callgrind, ${REQUESTS} requests after ${WARMUP}, ${CONTACTS.toLocaleString("en")} contacts):\n\n${table(rows)}`,
);

/**
 * Issue 16: file upload and download throughput (MB/s) of `POST /files` and `GET /files/:id`, on
 * embedded PGlite and on PostgreSQL, against a floor in the same run: a bare node:http server that
 * streams the body to disk and back with stream.pipeline (bench/files-floor.mjs). The client
 * streams a generated body over a raw node:http request and reads downloads without keeping them.
 * Then each database alone, in this process, running the store's own chunk statements: the most a
 * database-backed upload or download can reach here.
 *
 *   npm run bench:files                       # BENCH_MB=64 BENCH_ROUNDS=3 by default
 *   BENCH_DATA=text npm run bench:files       # a compressible body (CSV text) instead of random bytes
 *   BENCH_TARGETS=floor,PostgreSQL npm run bench:files   # only the targets whose label has one of those
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import postgres from "postgres";
import { startProcess, stopProcess, table } from "./lib/load.ts";
import { freshDatabase } from "./lib/pg.ts";

const port = 4616;
const base = `http://127.0.0.1:${port}`;
const token = "pbk_bench_token_0123456789abcdefghijklmnopqrstuvwxyz";
const megabytes = Number(process.env.BENCH_MB ?? 64);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const size = megabytes * 1024 * 1024;
const cli = fileURLToPath(new URL("../bin/plugboard.mjs", import.meta.url));
const floor = fileURLToPath(new URL("./files-floor.mjs", import.meta.url));
/** What the client sends, repeated: random bytes (a photo, a zip) or CSV text (compressible). */
const block =
  process.env.BENCH_DATA === "text"
    ? Buffer.from(
        Array.from({ length: 1600 }, (_, i) => `${i},Contact ${i * 7919},c${i * 104729}@example.com\n`)
          .join("")
          .slice(0, 64 * 1024)
          .padEnd(64 * 1024, "x"),
      )
    : randomBytes(64 * 1024);

/** Streams `size` bytes to POST /files over node:http; resolves with the new id and the seconds. */
function upload(): Promise<{ id: string; seconds: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      `${base}/files`,
      {
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/octet-stream",
          "content-length": size,
          "content-disposition": "attachment; filename*=UTF-8''bench.bin",
        },
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (chunk) => (body += chunk));
        res.on("end", () => {
          if (res.statusCode !== 201) return reject(new Error(`upload: ${res.statusCode} ${body}`));
          resolve({ id: JSON.parse(body).id, seconds: (performance.now() - started) / 1000 });
        });
      },
    );
    req.on("error", reject);
    let sent = 0;
    const write = () => {
      while (sent < size) {
        const piece = block.subarray(0, Math.min(block.length, size - sent));
        sent += piece.length;
        if (!req.write(piece)) return void req.once("drain", write);
      }
      req.end();
    };
    write();
  });
}

/** Reads GET /files/:id to the end without keeping it; resolves with the seconds. */
async function download(id: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${base}/files/${id}`, { headers: { authorization: `Bearer ${token}` } });
  let bytes = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) bytes += chunk.byteLength;
  if (response.status !== 200 || bytes !== size)
    throw new Error(`download: ${response.status}, ${bytes} bytes`);
  return (performance.now() - started) / 1000;
}

/** One measured setup: `transfer` stores the file and reads it back, in seconds each way. */
type Target = { label: string; transfer(): Promise<{ up: number; down: number }> };

/** An HTTP server on `port`: a warm-up transfer, then the measured one. */
const overHttp = (label: string, start: () => Promise<{ stop(): Promise<void> }>): Target => ({
  label,
  async transfer() {
    const running = await start();
    try {
      await download((await upload()).id); // warm up: JIT, pools, the URL key
      const { id, seconds: up } = await upload();
      return { up, down: await download(id) };
    } finally {
      await running.stop();
    }
  },
});

/**
 * The database alone, in this process: the statements DatabaseFileStore runs for each 1 MiB chunk
 * (insert decoding base64 text; read encoding it), no HTTP, hashing or streaming. What a
 * database-backed upload or download can reach at most on this machine.
 */
const databaseAlone = (
  label: string,
  open: () => Promise<{ exec(text: string, params: unknown[]): Promise<unknown>; close(): Promise<void> }>,
): Target => ({
  label,
  async transfer() {
    const db = await open();
    try {
      await db.exec(
        "create table if not exists chunks (f text, seq int, data bytea, primary key (f, seq))",
        [],
      );
      await db.exec("alter table chunks alter column data set storage external", []);
      const piece = Buffer.concat(Array.from({ length: 16 }, () => block)).toString("base64");
      const file = `f${Math.random()}`;
      let started = performance.now();
      for (let seq = 0; seq < megabytes; seq++)
        await db.exec("insert into chunks values ($1, $2, decode($3, 'base64'))", [file, seq, piece]);
      const up = (performance.now() - started) / 1000;
      started = performance.now();
      for (let seq = 0; seq < megabytes; seq++)
        await db.exec("select encode(data, 'base64') from chunks where f = $1 and seq = $2", [file, seq]);
      return { up, down: (performance.now() - started) / 1000 };
    } finally {
      await db.close();
    }
  },
});

const serve = (label: string, env: () => Promise<Record<string, string>>): Target =>
  overHttp(label, async () => {
    const child = await startProcess(
      [process.execPath, cli, "serve"],
      {
        PORT: String(port),
        PLUGBOARD_ADMIN_TOKEN: token,
        PLUGBOARD_LOG_LEVEL: "warn",
        PLUGBOARD_FILE_MAX_BYTES: String(size + 1),
        ...(await env()),
      },
      `${base}/readyz`,
    );
    return { stop: () => stopProcess(child) };
  });

const allTargets: Target[] = [
  overHttp("floor: node:http + pipeline to disk", async () => {
    const dir = mkdtempSync(join(tmpdir(), "files-floor-"));
    const child = await startProcess(
      [process.execPath, floor],
      { PORT: String(port), FLOOR_DIR: dir },
      `${base}/readyz`,
    );
    return {
      stop: async () => {
        await stopProcess(child);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }),
  serve("plugboard, PGlite", async () => ({ PLUGBOARD_DATA_DIR: "memory://" })),
  serve("plugboard, PostgreSQL", async () => ({
    DATABASE_URL: await freshDatabase("plugboard_bench_files"),
  })),
  databaseAlone("PGlite alone, no HTTP", async () => {
    const lite = await PGlite.create();
    return { exec: (text, params) => lite.query(text, params), close: () => lite.close() };
  }),
  databaseAlone("PostgreSQL alone, no HTTP", async () => {
    const pg = postgres(await freshDatabase("plugboard_bench_files_alone"), { onnotice: () => {} });
    // As the store writes chunks: without waiting for each WAL flush.
    await pg.unsafe("set synchronous_commit = off");
    return { exec: (text, params) => pg.unsafe(text, params as never[]), close: () => pg.end() };
  }),
];
const wanted = process.env.BENCH_TARGETS?.split(",").map((name) => name.trim().toLowerCase());
// The floor always runs first: every ratio is against it, measured in the same run.
const targets = allTargets.filter(
  (target, i) => i === 0 || !wanted || wanted.some((name) => target.label.toLowerCase().includes(name)),
);

const rows: Record<string, string | number>[] = [];
const means = new Map<string, { up: number; down: number }>();
for (let round = 1; round <= rounds; round++) {
  for (const target of targets) {
    const { up, down } = await target.transfer();
    const upRate = megabytes / up;
    const downRate = megabytes / down;
    rows.push({
      round,
      target: target.label,
      "upload MB/s": upRate.toFixed(0),
      "download MB/s": downRate.toFixed(0),
    });
    const sum = means.get(target.label) ?? { up: 0, down: 0 };
    means.set(target.label, { up: sum.up + upRate / rounds, down: sum.down + downRate / rounds });
  }
}

console.log(table(rows));
const floorMeans = means.get(targets[0]?.label ?? "") ?? { up: 1, down: 1 };
console.log(`\nmeans over ${rounds} rounds of a ${megabytes} MB file:`);
for (const [label, { up, down }] of means) {
  console.log(
    `  ${label.padEnd(38)} upload ${up.toFixed(0).padStart(5)} MB/s (${(up / floorMeans.up).toFixed(2)}× floor)   download ${down.toFixed(0).padStart(5)} MB/s (${(down / floorMeans.down).toFixed(2)}× floor)`,
  );
}

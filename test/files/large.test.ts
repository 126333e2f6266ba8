import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase, testDbKind } from "../helpers/database.ts";
import { freePort, type ServeProcess, startServeProcess } from "../helpers/process.ts";
import { postStream } from "./helpers.ts";

/**
 * A 200 MB upload and download through a real `plugboard serve` process, whose resident memory
 * must stay near its peak while streaming 64 MB files: bodies stream a chunk at a time, never
 * whole. PostgreSQL only:
 * embedded PGlite keeps its data in the server process's own (WASM) memory, so its RSS measures
 * the database, not the streaming.
 */
const SIZE = 200 * 1024 * 1024;
const TOKEN = `pbk_large_${randomBytes(24).toString("base64url")}`;
let database: TestDatabase;
let serve: ServeProcess;

function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(match?.[1] ?? 0) * 1024;
}

/** The largest RSS seen while `work` runs, sampled every 50 ms. */
async function peakRss(pid: number, work: () => Promise<void>): Promise<number> {
  let peak = rssBytes(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 50);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, rssBytes(pid));
}

/** `size` pseudo-random bytes in 64 KiB pieces, made as they are read. */
function source(size: number, hash: ReturnType<typeof createHash>): Readable {
  const block = randomBytes(64 * 1024);
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= size) return void this.push(null);
      const piece = Buffer.from(block.subarray(0, Math.min(block.length, size - sent)));
      piece.writeUInt32BE(sent >>> 0, 0); // every piece differs
      sent += piece.length;
      hash.update(piece);
      this.push(piece);
    },
  });
}

const onPostgres = testDbKind === "postgres";

describe.runIf(onPostgres)("a 200 MB file through a server process", () => {
  beforeAll(async () => {
    database = await createTestDatabase();
    serve = await startServeProcess(freePort(), {
      DATABASE_URL: database.url as string,
      PLUGBOARD_ADMIN_TOKEN: TOKEN,
      PLUGBOARD_ADMIN_EMAIL: "owner@example.com",
      PLUGBOARD_FILE_MAX_BYTES: String(256 * 1024 * 1024),
      PLUGBOARD_LOG_LEVEL: "warn",
    });
  }, 120_000);
  afterAll(async () => {
    await serve?.stop();
    await database?.drop();
  });

  it("streams up and down with RSS +50 MB at most over the peak of two 64 MB round trips", async () => {
    const pid = serve.child.pid as number;
    // The baseline is the server already streaming: the peak of two 64 MB round trips through the
    // same paths. A busy Node process's RSS saws up and down by tens of megabytes between garbage
    // collections whatever the file size (up to ~90 MB over an idle server here, most of it reached
    // within the first hundred megabytes streamed); what must not happen is growth with the size,
    // which a 200 MB body held whole would show at once.
    const roundTrip = async (megabytes: number) => {
      const warm = await postStream(
        serve.url,
        TOKEN,
        source(megabytes * 1024 * 1024, createHash("sha256")),
        "warm.bin",
      );
      const response = await fetch(`${serve.url}/files/${JSON.parse(warm.body).id}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      for await (const _ of response.body as unknown as AsyncIterable<Uint8Array>);
    };
    const warmPeak = await peakRss(pid, async () => {
      await roundTrip(64);
      await roundTrip(64);
    });
    const idle = rssBytes(pid);
    const baseline = warmPeak;

    const sent = createHash("sha256");
    let uploaded: { id: string; size: number; sha256: string } | undefined;
    const started = performance.now();
    const uploadPeak = await peakRss(pid, async () => {
      const response = await postStream(serve.url, TOKEN, source(SIZE, sent), "big.bin");
      expect(response.status).toBe(201);
      uploaded = JSON.parse(response.body);
    });
    const uploadSeconds = (performance.now() - started) / 1000;
    expect(uploaded).toMatchObject({ size: SIZE, sha256: sent.digest("hex") });

    const received = createHash("sha256");
    let bytes = 0;
    const downloadStarted = performance.now();
    const downloadPeak = await peakRss(pid, async () => {
      const response = await fetch(`${serve.url}/files/${uploaded?.id}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(response.status).toBe(200);
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        received.update(chunk);
        bytes += chunk.byteLength;
      }
    });
    const downloadSeconds = (performance.now() - downloadStarted) / 1000;
    expect(bytes).toBe(SIZE);
    expect(received.digest("hex")).toBe(uploaded?.sha256);

    const mb = (n: number) => Math.round(n / 1024 / 1024);
    console.log(
      `200 MB: upload ${uploadSeconds.toFixed(1)} s, download ${downloadSeconds.toFixed(1)} s; server RSS ${mb(idle)} MB after warm-up, ${mb(warmPeak)} MB peak during two 64 MB round trips; peak ${mb(uploadPeak)} MB up, ${mb(downloadPeak)} MB down`,
    );
    expect(uploadPeak - baseline).toBeLessThan(50 * 1024 * 1024);
    expect(downloadPeak - baseline).toBeLessThan(50 * 1024 * 1024);
  }, 180_000);
});

describe.skipIf(onPostgres)("a 200 MB file through a server process", () => {
  it.skip("runs on PostgreSQL only (TEST_DATABASE_URL): PGlite's data lives in the server's own memory", () => {});
});

import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AwsClient } from "aws4fetch";
import { sql } from "drizzle-orm";
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHUNK_BYTES } from "../../src/files/storage.ts";
import { queryRows } from "../../src/kernel/db.ts";
import { ConfigError, loadEnv } from "../../src/kernel/env.ts";
import { runMaintenance } from "../../src/server/maintenance.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { postFile, sha256, upload } from "./helpers.ts";

/**
 * File bytes in an S3-compatible bucket: s3rver, a local S3 server installed from npm, speaks the
 * same signed REST API as AWS S3, MinIO or R2.
 */
const BUCKET = "plugboard-files";
const LIMIT = 6 * 1024 * 1024;
let s3: S3rver;
let s3Dir: string;
let endpoint: string;
let server: TestServer;
const aws = new AwsClient({
  accessKeyId: "S3RVER",
  secretAccessKey: "S3RVER",
  region: "us-east-1",
  service: "s3",
});
const auth = () => ({ authorization: `Bearer ${server.owner.token}` });

beforeAll(async () => {
  s3Dir = mkdtempSync(join(tmpdir(), "plugboard-s3-"));
  s3 = new S3rver({
    port: 0,
    address: "127.0.0.1",
    silent: true,
    directory: s3Dir,
    configureBuckets: [{ name: BUCKET, configs: [] }],
  });
  const { port } = await s3.run();
  endpoint = `http://127.0.0.1:${port}`;
  server = await startServer({
    PLUGBOARD_S3_BUCKET: BUCKET,
    PLUGBOARD_S3_ENDPOINT: endpoint,
    PLUGBOARD_S3_PREFIX: "uploads/",
    AWS_ACCESS_KEY_ID: "S3RVER",
    AWS_SECRET_ACCESS_KEY: "S3RVER",
    PLUGBOARD_FILE_MAX_BYTES: String(LIMIT),
    PLUGBOARD_FILE_ORPHAN_HOURS: "1",
  });
});
afterAll(async () => {
  await server?.close();
  await s3?.close();
  rmSync(s3Dir, { recursive: true, force: true });
});

async function bucketKeys(): Promise<string[]> {
  const response = await aws.fetch(`${endpoint}/${BUCKET}?list-type=2&prefix=uploads/`);
  expect(response.status).toBe(200);
  return [...(await response.text()).matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1] as string).sort();
}
const chunkRows = async () =>
  (await queryRows<{ n: number }>(server.database.db, sql`select count(*)::int as n from file_chunks`))[0]?.n;

describe("files in an S3-compatible bucket", () => {
  it("stores the bytes as objects, not database rows, and serves them whole and by range", async () => {
    const bytes = randomBytes(3 * CHUNK_BYTES + 12345);
    const file = await upload(server.url, server.owner.token, new Blob([bytes]), { name: "big.bin" });
    expect(file).toMatchObject({ size: bytes.length, sha256: sha256(bytes) });

    expect(await bucketKeys()).toEqual([0, 1, 2, 3].map((seq) => `uploads/${file.id}/${seq}`));
    expect(await chunkRows()).toBe(0);

    const whole = await fetch(`${server.url}/files/${file.id}`, { headers: auth() });
    expect(whole.status).toBe(200);
    expect(Buffer.from(await whole.arrayBuffer()).equals(bytes)).toBe(true);

    // A range across two pieces, and one inside the last.
    for (const [from, to] of [
      [CHUNK_BYTES - 10, CHUNK_BYTES + 9],
      [3 * CHUNK_BYTES + 5, 3 * CHUNK_BYTES + 20],
    ] as const) {
      const part = await fetch(`${server.url}/files/${file.id}`, {
        headers: { ...auth(), range: `bytes=${from}-${to}` },
      });
      expect(part.status).toBe(206);
      expect(part.headers.get("content-range")).toBe(`bytes ${from}-${to}/${bytes.length}`);
      expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(from, to + 1))).toBe(true);
    }
  });

  it("leaves nothing in the bucket when an upload is refused halfway", async () => {
    const before = await bucketKeys();
    const response = await postFile(server.url, server.owner.token, new Blob([randomBytes(LIMIT + 1)]));
    expect(response.status).toBe(413);
    expect(await bucketKeys()).toEqual(before);
  });

  it("purges an orphan's objects with its row, and keeps everything else", async () => {
    const kept = await upload(server.url, server.owner.token, new Blob(["recent"]));
    const orphan = await upload(server.url, server.owner.token, new Blob([randomBytes(CHUNK_BYTES + 1)]));
    expect((await bucketKeys()).filter((key) => key.includes(orphan.id))).toHaveLength(2);
    await server.database.db.execute(
      sql`update files set created_at = now() - interval '2 hours' where id = ${orphan.id}`,
    );

    await runMaintenance(server.app.services);

    const keys = await bucketKeys();
    expect(keys.filter((key) => key.includes(orphan.id))).toEqual([]);
    expect(keys).toContain(`uploads/${kept.id}/0`);
    expect((await fetch(`${server.url}/files/${orphan.id}`, { headers: auth() })).status).toBe(404);
    expect(await (await fetch(`${server.url}/files/${kept.id}`, { headers: auth() })).text()).toBe("recent");
  });

  it("refuses to start with a bucket but no credentials, naming what is missing", () => {
    expect(() => loadEnv({ PLUGBOARD_S3_BUCKET: BUCKET })).toThrow(ConfigError);
    expect(() => loadEnv({ PLUGBOARD_S3_BUCKET: BUCKET })).toThrow(
      /AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/,
    );
    expect(() =>
      loadEnv({
        PLUGBOARD_S3_BUCKET: BUCKET,
        AWS_ACCESS_KEY_ID: "a",
        AWS_SECRET_ACCESS_KEY: "b",
        PLUGBOARD_S3_ENDPOINT: "ftp://x",
      }),
    ).toThrow(/PLUGBOARD_S3_ENDPOINT/);
  });
});

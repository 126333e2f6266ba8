import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { binaryCopyField } from "../../src/files/storage.ts";
import { type Database, queryRows } from "../../src/kernel/db.ts";
import { openDatabase } from "../../src/server/database.ts";
import { createTestDatabase, type TestDatabase, testDbKind } from "../helpers/database.ts";

const concat = (pieces: Uint8Array[]) => Buffer.concat(pieces.map((piece) => Buffer.from(piece)));

/** What PostgreSQL sends for `COPY (select $bytes) TO STDOUT (FORMAT binary)`, or for no row. */
function copyOutput(field: Buffer | null): Buffer {
  const header = Buffer.concat([Buffer.from("PGCOPY\n\xff\r\n\0", "latin1"), Buffer.alloc(8)]);
  const trailer = Buffer.from([0xff, 0xff]);
  if (!field) return Buffer.concat([header, trailer]);
  const row = Buffer.alloc(6);
  row.writeInt16BE(1, 0);
  row.writeInt32BE(field.length, 2);
  return Buffer.concat([header, row, field, trailer]);
}

describe("binaryCopyField", () => {
  const field = Buffer.from(Array.from({ length: 40 }, (_, i) => i * 7));
  const output = copyOutput(field);

  it("finds the field however the stream was cut into pieces", () => {
    for (let a = 0; a <= output.length; a++) {
      for (let b = a; b <= output.length; b += 3) {
        const pieces = [output.subarray(0, a), output.subarray(a, b), output.subarray(b)];
        expect(concat(binaryCopyField(pieces) ?? [])).toEqual(field);
      }
    }
  });

  it("hands back slices of the pieces, not copies", () => {
    const [slice] = binaryCopyField([output]) ?? [];
    expect(slice?.buffer).toBe(output.buffer);
  });

  it("is null when no row came, and refuses what is not a binary COPY or is cut short", () => {
    expect(binaryCopyField([copyOutput(null)])).toBeNull();
    expect(() => binaryCopyField([Buffer.from("id,data\n1,abc\n")])).toThrow(/not a binary COPY/);
    expect(() => binaryCopyField([output.subarray(0, output.length - 10)])).toThrow(/cut short/);
  });
});

describe.runIf(testDbKind === "postgres")("copyOut on PostgreSQL", () => {
  let testDb: TestDatabase;
  let database: Database;
  beforeAll(async () => {
    testDb = await createTestDatabase();
    // One connection: every COPY and query after it must reuse the same socket.
    database = await openDatabase({ url: testDb.url, dataDir: "memory://", maxConnections: 1 });
  });
  afterAll(async () => {
    await database?.close();
    await testDb?.drop();
  });

  it("leaves the connection usable after each megabyte COPY (postgres.js paused it for good)", async () => {
    const megabyte = Buffer.alloc(1024 * 1024, 0xab);
    for (let round = 0; round < 5; round++) {
      const stream = await (database.copyOut as NonNullable<Database["copyOut"]>)(
        `copy (select decode(repeat('ab', ${megabyte.length}), 'hex')) to stdout (format binary)`,
      );
      const pieces: Uint8Array[] = [];
      for await (const piece of stream) pieces.push(piece);
      // Buffer#equals: a deep toEqual over a megabyte takes seconds.
      expect(concat(binaryCopyField(pieces) ?? []).equals(megabyte)).toBe(true);
      const [row] = await queryRows<{ round: number }>(
        database.backgroundDb,
        sql`select ${round}::int as round`,
      );
      expect(row?.round).toBe(round);
    }
  }, 20_000);
});

describe.skipIf(testDbKind === "postgres")("copyOut on PGlite", () => {
  it("is absent: chunks are read as base64 text instead", async () => {
    const database = await openDatabase({ dataDir: "memory://" });
    expect(database.copyOut).toBeUndefined();
    await database.close();
  });
});

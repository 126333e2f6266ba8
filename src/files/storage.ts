import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/client.ts";

/**
 * Where a file's bytes live, in fixed-size pieces: by default in the database (`bytea` chunks, so
 * embedded PGlite and PostgreSQL both work with no extra service), or in an S3-compatible bucket
 * (s3Store.ts). Either way a Range read fetches only the pieces it covers.
 */
export interface FileStore {
  /** Stores piece `seq` (every piece but the last is exactly `CHUNK_BYTES`). */
  put(fileId: string, seq: number, bytes: Uint8Array): Promise<void>;
  /**
   * Bytes `[start, end)` of a stored file, in order, a chunk at a time. Each chunk is valid only
   * until the next one is asked for (the buffer is reused): write it out before pulling again.
   */
  read(fileId: string, start: number, end: number): AsyncGenerator<Uint8Array>;
  /** Deletes every stored piece of a file (called before its row is deleted; idempotent). */
  remove(fileId: string): Promise<void>;
}

/** 1 MiB: large enough that per-row overhead is noise, small enough to hold a few in memory. */
export const CHUNK_BYTES = 1024 * 1024;
const READS_AHEAD = 2;

export class DatabaseFileStore implements FileStore {
  /** `db` should be the pool (backgroundDb): megabyte statements would stall pipelined requests. */
  constructor(private readonly db: Db) {}

  /*
   * Bytes cross the driver as base64 text, decoded by native code on both sides: PGlite encodes a
   * Uint8Array parameter byte by byte in JavaScript (~3 MB/s); as base64 text the same insert runs
   * at ~18 MB/s, and reads go from ~10 to ~80 MB/s. postgres.js moves bytea as hex text anyway,
   * a third more bytes (and garbage) than base64.
   */
  async put(fileId: string, seq: number, bytes: Uint8Array): Promise<void> {
    const base64 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
    // Without waiting for the WAL flush (~50% faster on PostgreSQL): the upload's final update
    // commits synchronously, and flushing its WAL record flushes every earlier one, these included.
    // A crash before then leaves an unfinished upload, which the orphan purge removes.
    await this.db.transaction(async (tx) => {
      await tx.execute(sql`set local synchronous_commit = off`);
      await tx.execute(
        sql`insert into file_chunks (file_id, seq, data) values (${fileId}, ${seq}, decode(${base64}, 'base64'))`,
      );
    });
  }

  /** The chunks go with the file's row (`on delete cascade`), in the same statement. */
  async remove(): Promise<void> {}

  /** A chunk as base64 text (PostgreSQL breaks its lines every 76 characters; Node skips them). */
  private async chunk(fileId: string, seq: number): Promise<string> {
    const [row] = await queryRows<{ base64: string }>(
      this.db,
      sql`select encode(data, 'base64') as base64 from file_chunks where file_id = ${fileId} and seq = ${seq}`,
    );
    if (!row) throw new Error(`chunk ${seq} of ${fileId} is missing`);
    return row.base64;
  }

  async *read(fileId: string, start: number, end: number): AsyncGenerator<Uint8Array> {
    if (end <= start) return;
    const first = Math.floor(start / CHUNK_BYTES);
    const last = Math.floor((end - 1) / CHUNK_BYTES);
    // Two chunks are fetched ahead while the current one is written to the socket.
    const ahead: Promise<string>[] = [];
    let fetched = first;
    const fetchAhead = () => {
      while (ahead.length < READS_AHEAD && fetched <= last) {
        const chunk = this.chunk(fileId, fetched++);
        chunk.catch(() => {}); // surfaced by the await below if the reader is still there
        ahead.push(chunk);
      }
    };
    // One buffer per read, decoded into again for each chunk (see `read`'s contract).
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    for (let seq = first; seq <= last; seq++) {
      fetchAhead();
      const text = (await ahead.shift()) as string;
      fetchAhead();
      const data = buffer.subarray(0, buffer.write(text, "base64"));
      const from = seq === first ? start - seq * CHUNK_BYTES : 0;
      const to = seq === last ? end - seq * CHUNK_BYTES : data.length;
      yield data.subarray(from, to);
    }
  }
}

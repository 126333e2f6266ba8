import { sql } from "drizzle-orm";
import { type CopyOut, type Db, queryRows, sqlTextLiteral } from "../kernel/index.ts";

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
  /**
   * `db` should be the pool (backgroundDb): megabyte statements would stall pipelined requests.
   * With `copyOut` (PostgreSQL) chunks are read as raw bytes; without it (PGlite), as base64 text.
   */
  constructor(
    private readonly db: Db,
    private readonly copyOut?: CopyOut,
  ) {}

  /*
   * Bytes are written as base64 text, decoded by native code on both sides: PGlite encodes a
   * Uint8Array parameter byte by byte in JavaScript (~3 MB/s); as base64 text the same insert runs
   * at ~18 MB/s. postgres.js moves bytea as hex text anyway, a third more bytes than base64. (A
   * binary COPY per chunk on PostgreSQL measured no faster: PostgreSQL's own write is the cost.)
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

  /**
   * A chunk as base64 text (PostgreSQL breaks its lines every 76 characters; Node skips them): on
   * PGlite, reads go from ~10 to ~80 MB/s this way.
   */
  private async encodedChunk(fileId: string, seq: number): Promise<string> {
    const [row] = await queryRows<{ base64: string }>(
      this.db,
      sql`select encode(data, 'base64') as base64 from file_chunks where file_id = ${fileId} and seq = ${seq}`,
    );
    if (!row) throw new Error(`chunk ${seq} of ${fileId} is missing`);
    return row.base64;
  }

  /**
   * A chunk's bytes as PostgreSQL sends them in a binary COPY, in the driver's own buffers: no text
   * to decode and nothing for V8's heap. Read as base64 text, every megabyte sent was a 1.4 MB
   * string, and enough of them reached the old generation that a 200 MB download grew the process
   * by over 100 MB until a full collection. The stream is read to its end (a megabyte) before any
   * byte is handed on, so a client that goes away never leaves a pool connection mid-COPY.
   */
  private async copiedChunk(copyOut: CopyOut, fileId: string, seq: number): Promise<Uint8Array[]> {
    // COPY takes no parameters. File ids are generated (`fil_` and base 36); quote anyway.
    const id = sqlTextLiteral(fileId);
    const stream = await copyOut(
      `copy (select data from file_chunks where file_id = ${id} and seq = ${Number(seq)}) to stdout (format binary)`,
    );
    const pieces: Uint8Array[] = [];
    for await (const piece of stream) pieces.push(piece);
    const data = binaryCopyField(pieces);
    if (!data) throw new Error(`chunk ${seq} of ${fileId} is missing`);
    return data;
  }

  async *read(fileId: string, start: number, end: number): AsyncGenerator<Uint8Array> {
    if (end <= start) return;
    const first = Math.floor(start / CHUNK_BYTES);
    const last = Math.floor((end - 1) / CHUNK_BYTES);
    const { copyOut } = this;
    const fetchChunk = (seq: number): Promise<Uint8Array[] | string> =>
      copyOut ? this.copiedChunk(copyOut, fileId, seq) : this.encodedChunk(fileId, seq);
    // Two chunks are fetched ahead while the current one is written to the socket.
    const ahead: Promise<Uint8Array[] | string>[] = [];
    let fetched = first;
    const fetchAhead = () => {
      while (ahead.length < READS_AHEAD && fetched <= last) {
        const chunk = fetchChunk(fetched++);
        chunk.catch(() => {}); // surfaced by the await below if the reader is still there
        ahead.push(chunk);
      }
    };
    // Base64 chunks are decoded into one buffer per read, again for each chunk (see `read`'s contract).
    let decoded: Buffer | undefined;
    for (let seq = first; seq <= last; seq++) {
      fetchAhead();
      const chunk = (await ahead.shift()) as Uint8Array[] | string;
      fetchAhead();
      let pieces: Uint8Array[];
      if (typeof chunk === "string") {
        decoded ??= Buffer.allocUnsafe(CHUNK_BYTES);
        pieces = [decoded.subarray(0, decoded.write(chunk, "base64"))];
      } else {
        pieces = chunk;
      }
      // The part of this chunk inside [start, end).
      const from = seq === first ? start - seq * CHUNK_BYTES : 0;
      const to = seq === last ? end - seq * CHUNK_BYTES : CHUNK_BYTES;
      let offset = 0;
      for (const piece of pieces) {
        const low = Math.max(from - offset, 0);
        const high = Math.min(to - offset, piece.byteLength);
        if (high > low) yield piece.subarray(low, high);
        offset += piece.byteLength;
      }
    }
  }
}

const COPY_SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");

/**
 * The one field of the one row a `COPY … (FORMAT binary)` sent, as slices of `pieces` (no copy);
 * null when it sent no row. The format: an 11-byte signature, 4 bytes of flags, a 4-byte length
 * of a header extension and the extension; then per row a 16-bit field count (-1 ends the data)
 * and per field a 32-bit length (-1 for null) and the bytes. Integers are big-endian.
 */
export function binaryCopyField(pieces: readonly Uint8Array[]): Uint8Array[] | null {
  const total = pieces.reduce((sum, piece) => sum + piece.byteLength, 0);
  // The fixed-size parts are few bytes: read them through a small copy of the bytes they span.
  const bytesAt = (position: number, length: number): Buffer => {
    const out = Buffer.alloc(length);
    let offset = 0;
    for (const piece of pieces) {
      const low = Math.max(position - offset, 0);
      const high = Math.min(position + length - offset, piece.byteLength);
      if (high > low) out.set(piece.subarray(low, high), offset + low - position);
      offset += piece.byteLength;
    }
    return out;
  };
  if (total < 21 || !bytesAt(0, 11).equals(COPY_SIGNATURE)) {
    throw new Error("not a binary COPY stream");
  }
  let position = 19 + bytesAt(15, 4).readUInt32BE(0);
  const fields = bytesAt(position, 2).readInt16BE(0);
  if (fields === -1) return null;
  if (fields !== 1) throw new Error(`a binary COPY row of ${fields} fields, expected 1`);
  const length = bytesAt(position + 2, 4).readInt32BE(0);
  position += 6;
  if (length < 0 || position + length > total) throw new Error("a binary COPY field cut short");
  const slices: Uint8Array[] = [];
  let offset = 0;
  for (const piece of pieces) {
    const low = Math.max(position - offset, 0);
    const high = Math.min(position + length - offset, piece.byteLength);
    if (high > low) slices.push(piece.subarray(low, high));
    offset += piece.byteLength;
  }
  return slices;
}

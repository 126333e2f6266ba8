import { createHash } from "node:crypto";
import { and, eq, inArray, sql } from "drizzle-orm";
import { type Actor, requireScope } from "../auth/index.ts";
import type { CopyOut, Db, Env } from "../kernel/index.ts";
import { AppError, fail, newId } from "../kernel/index.ts";
import type { CatalogStore } from "../metadata/index.ts";
import { readableFiles } from "./access.ts";
import { SNIFF_BYTES, servedContentType } from "./contentTypes.ts";
import { cleanFileName } from "./disposition.ts";
import { FileImporter } from "./importer.ts";
import { S3FileStore, s3Settings } from "./s3Store.ts";
import { DEFAULT_URL_SECONDS, MAX_URL_SECONDS, UrlSigner } from "./signing.ts";
import { CHUNK_BYTES, DatabaseFileStore, type FileStore } from "./storage.ts";
import { type FileRow, files } from "./tables.ts";

export interface UploadInput {
  name: string | null | undefined;
  /** The client's Content-Type: a hint, checked against the bytes (see contentTypes.ts). */
  declaredType: string | null | undefined;
  /** The announced size, when known: refused up front if over the limit. */
  declaredLength?: number | null;
  body: AsyncIterable<Uint8Array>;
}

/** Chunk inserts in flight during an upload: on PostgreSQL each runs on its own pool connection. */
const WRITES_IN_FLIGHT = 3;

export function tooLarge(limit: number): AppError {
  return new AppError("PAYLOAD_TOO_LARGE", `The file is larger than the limit of ${limit} bytes.`, {
    limit,
  });
}

/** Uploads, lookups with access checks, signed links and reads of stored files. */
export class FileService {
  readonly store: FileStore;
  readonly signer: UrlSigner;
  readonly maxBytes: number;
  readonly importer: FileImporter;
  /** The server's public origin; app.ts replaces it when the port is only known after listening. */
  publicUrl: () => string;

  constructor(
    private readonly db: Db,
    backgroundDb: Db,
    env: Env,
    private readonly catalogs: CatalogStore,
    copyOut?: CopyOut,
  ) {
    const bucket = s3Settings(env);
    this.store = bucket ? new S3FileStore(bucket) : new DatabaseFileStore(backgroundDb, copyOut);
    this.signer = new UrlSigner(backgroundDb);
    this.maxBytes = env.PLUGBOARD_FILE_MAX_BYTES;
    this.publicUrl = () => env.publicUrl;
    this.importer = new FileImporter(this, env.PLUGBOARD_WEBHOOK_ALLOW_PRIVATE);
  }

  /** Stores the file a URL serves (see FileImporter). */
  importFromUrl(actor: Actor, input: { url: string; name?: string | null }): Promise<FileRow> {
    requireScope(actor, "WRITE");
    return this.importer.import(actor, input);
  }

  close(): Promise<void> {
    return this.importer.close();
  }

  /**
   * Streams a body into storage a chunk at a time (a few chunks written while the next arrives), so
   * memory stays at a few MiB whatever the size. A failed or oversize upload leaves nothing.
   */
  async upload(actor: Actor, input: UploadInput): Promise<FileRow> {
    requireScope(actor, "WRITE");
    if (input.declaredLength != null && input.declaredLength > this.maxBytes) throw tooLarge(this.maxBytes);
    const id = newId("file");
    await this.db.insert(files).values({
      id,
      workspaceId: actor.workspaceId,
      name: cleanFileName(input.name),
      contentType: "application/octet-stream",
      createdById: actor.memberId,
    });
    const inflight: Promise<void>[] = [];
    try {
      const hash = createHash("sha256");
      let size = 0;
      let seq = 0;
      let head: Uint8Array | null = null;
      let pending = Buffer.allocUnsafe(CHUNK_BYTES);
      let filled = 0;
      const flush = async () => {
        const bytes = pending.subarray(0, filled);
        head ??= Uint8Array.prototype.slice.call(bytes, 0, SNIFF_BYTES);
        if (inflight.length >= WRITES_IN_FLIGHT) await inflight.shift();
        const put = this.store.put(id, seq++, bytes);
        put.catch(() => {}); // awaited in turn, or together at the end
        inflight.push(put);
        pending = Buffer.allocUnsafe(CHUNK_BYTES);
        filled = 0;
      };
      for await (const chunk of input.body) {
        size += chunk.byteLength;
        if (size > this.maxBytes) throw tooLarge(this.maxBytes);
        hash.update(chunk);
        for (let offset = 0; offset < chunk.byteLength; ) {
          const take = Math.min(CHUNK_BYTES - filled, chunk.byteLength - offset);
          pending.set(chunk.subarray(offset, offset + take), filled);
          filled += take;
          offset += take;
          if (filled === CHUNK_BYTES) await flush();
        }
      }
      if (filled > 0) await flush();
      await Promise.all(inflight);
      const [row] = await this.db
        .update(files)
        .set({
          size,
          sha256: hash.digest("hex"),
          contentType: servedContentType(head ?? new Uint8Array(), input.declaredType),
          completedAt: sql`now()`,
        })
        .where(eq(files.id, id))
        .returning();
      return row as FileRow;
    } catch (error) {
      await Promise.allSettled(inflight);
      await this.db.delete(files).where(eq(files.id, id));
      // Best effort: the upload's own error is the one to report; a piece left in a bucket is only
      // an unreferenced object.
      await this.store.remove(id).catch(() => {});
      throw error;
    }
  }

  /** The files of `ids` the actor may read, in the order asked (unknown ones left out). */
  async readable(actor: Actor, ids: readonly string[]): Promise<FileRow[]> {
    requireScope(actor, "READ");
    if (ids.length === 0) return [];
    const rows = await this.db
      .select()
      .from(files)
      .where(and(eq(files.workspaceId, actor.workspaceId), inArray(files.id, [...ids])));
    const catalog = await this.catalogs.get(actor.workspaceId);
    const allowed = new Map((await readableFiles(this.db, catalog, actor, rows)).map((r) => [r.id, r]));
    return ids.flatMap((id) => allowed.get(id) ?? []);
  }

  /** One file the actor may read; NOT_FOUND otherwise (another workspace's ids included). */
  async get(actor: Actor, id: string): Promise<FileRow> {
    const [row] = await this.readable(actor, [id]);
    if (!row) throw fail.notFound(`No file ${id} that you can read.`);
    return row;
  }

  /**
   * Files a resource's FILE value names, in order: reading the value already proved access, so
   * only the workspace and completion are checked.
   */
  async byIds(workspaceId: string, ids: readonly string[]): Promise<FileRow[]> {
    if (ids.length === 0) return [];
    const rows = await this.db
      .select()
      .from(files)
      .where(and(eq(files.workspaceId, workspaceId), inArray(files.id, [...ids])));
    const byId = new Map(rows.filter((r) => r.completedAt).map((r) => [r.id, r]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  /** A file by id for a signed link (the signature already proved access). */
  async byId(id: string): Promise<FileRow | null> {
    const [row] = await this.db.select().from(files).where(eq(files.id, id));
    return row?.completedAt ? row : null;
  }

  /** An absolute download link valid for `expiresIn` seconds (default an hour, at most a week). */
  async signedUrl(file: FileRow, expiresIn: number | null | undefined): Promise<string> {
    const seconds = expiresIn ?? DEFAULT_URL_SECONDS;
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_URL_SECONDS) {
      throw fail.badInput("expiresIn", `expiresIn must be between 1 and ${MAX_URL_SECONDS} seconds.`);
    }
    return `${this.publicUrl()}/files/${file.id}?${await this.signer.sign(file.id, seconds)}`;
  }
}

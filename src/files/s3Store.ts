import { AwsClient } from "aws4fetch";
import type { Env } from "../kernel/index.ts";
import type { FileStore } from "./storage.ts";
import { CHUNK_BYTES } from "./storage.ts";

export interface S3Settings {
  bucket: string;
  /** Default: AWS's regional endpoint. MinIO, R2 and other S3-compatible services give theirs. */
  endpoint: string;
  region: string;
  /** Prepended to every key, so the bucket can be shared. */
  prefix: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export function s3Settings(env: Env): S3Settings | null {
  const bucket = env.PLUGBOARD_S3_BUCKET;
  if (!bucket || !env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) return null;
  const region = env.PLUGBOARD_S3_REGION ?? env.AWS_REGION ?? "us-east-1";
  return {
    bucket,
    endpoint: (env.PLUGBOARD_S3_ENDPOINT ?? `https://s3.${region}.amazonaws.com`).replace(/\/+$/, ""),
    region,
    prefix: env.PLUGBOARD_S3_PREFIX,
    accessKeyId: env.AWS_ACCESS_KEY_ID,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
    sessionToken: env.AWS_SESSION_TOKEN,
  };
}

/**
 * File bytes in an S3-compatible bucket, one object per `CHUNK_BYTES` piece (`<prefix><fileId>/<seq>`):
 * the upload path stays the same streamed, fixed-memory loop as the database store's, with no
 * multipart-upload state to clean up after a crash, and a Range read fetches only the pieces (and
 * the bytes within them) it covers. Requests are signed with SigV4 by aws4fetch over fetch, with
 * path-style URLs, which every S3-compatible service accepts.
 */
export class S3FileStore implements FileStore {
  private readonly aws: AwsClient;
  private readonly bucketUrl: string;

  constructor(private readonly settings: S3Settings) {
    this.aws = new AwsClient({
      accessKeyId: settings.accessKeyId,
      secretAccessKey: settings.secretAccessKey,
      sessionToken: settings.sessionToken,
      region: settings.region,
      service: "s3",
      retries: 3,
    });
    this.bucketUrl = `${settings.endpoint}/${encodeURIComponent(settings.bucket)}`;
  }

  private keyPrefix(fileId: string): string {
    return `${this.settings.prefix}${fileId}/`;
  }

  private objectUrl(key: string): string {
    return `${this.bucketUrl}/${key.split("/").map(encodeURIComponent).join("/")}`;
  }

  async put(fileId: string, seq: number, bytes: Uint8Array): Promise<void> {
    const response = await this.aws.fetch(this.objectUrl(`${this.keyPrefix(fileId)}${seq}`), {
      method: "PUT",
      body: bytes as Uint8Array<ArrayBuffer>, // fetch's types want an ArrayBuffer-backed view
      headers: { "content-type": "application/octet-stream" },
    });
    await expectOk(response, `store piece ${seq} of ${fileId}`);
  }

  async *read(fileId: string, start: number, end: number): AsyncGenerator<Uint8Array> {
    if (end <= start) return;
    const first = Math.floor(start / CHUNK_BYTES);
    const last = Math.floor((end - 1) / CHUNK_BYTES);
    const fetchPiece = (seq: number) => {
      const from = seq === first ? start - seq * CHUNK_BYTES : 0;
      const to = seq === last ? end - seq * CHUNK_BYTES : CHUNK_BYTES;
      const piece = this.aws.fetch(this.objectUrl(`${this.keyPrefix(fileId)}${seq}`), {
        headers: { range: `bytes=${from}-${to - 1}` },
      });
      piece.catch(() => {}); // surfaced by the await below if the reader is still there
      return piece;
    };
    // The next piece's request is made while the current one streams out.
    let next = fetchPiece(first);
    for (let seq = first; seq <= last; seq++) {
      const response = await next;
      if (seq < last) next = fetchPiece(seq + 1);
      await expectOk(response, `read piece ${seq} of ${fileId}`);
      if (!response.body) throw new Error(`S3 sent no body for piece ${seq} of ${fileId}`);
      // Node's web streams are async iterable; the DOM typings do not say so.
      yield* response.body as unknown as AsyncIterable<Uint8Array>;
    }
  }

  async remove(fileId: string): Promise<void> {
    for (;;) {
      const keys = await this.list(this.keyPrefix(fileId));
      if (keys.length === 0) return;
      for (const key of keys) {
        const response = await this.aws.fetch(this.objectUrl(key), { method: "DELETE" });
        // 404: already gone (a purge pass that stopped halfway, or a concurrent one).
        if (response.status !== 404) await expectOk(response, `delete ${key}`);
      }
    }
  }

  /** Up to 1,000 keys under `prefix` (ListObjectsV2); `remove` repeats until none are left. */
  private async list(prefix: string): Promise<string[]> {
    const url = new URL(this.bucketUrl);
    url.searchParams.set("list-type", "2");
    url.searchParams.set("prefix", prefix);
    const response = await this.aws.fetch(url.toString());
    await expectOk(response, `list ${prefix}`);
    const xml = await response.text();
    return [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((match) => unescapeXml(match[1] as string));
  }
}

async function expectOk(response: Response, action: string): Promise<void> {
  if (response.ok) return;
  const body = await response.text().catch(() => "");
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
  throw new Error(`S3 could not ${action}: HTTP ${response.status}${code ? ` ${code}` : ""}`);
}

const unescapeXml = (text: string) =>
  text.replace(
    /&(lt|gt|quot|apos|amp);/g,
    (_, name: string) => ({ lt: "<", gt: ">", quot: '"', apos: "'", amp: "&" })[name] as string,
  );

import { isIP } from "node:net";
import type { Agent } from "undici";
import { hostOf, pinnedLookup, refusedAddress } from "./targets.ts";

/** undici is loaded on the first delivery, so processes that never send pay nothing at start. */
const loadUndici = () => import("undici");

/** How much of a response body is read (the rest is discarded) and how much is kept in the log. */
const READ_CAP = 8 * 1024;
export const STORED_BODY_CAP = 1024;

export interface SendResult {
  status: number | null;
  body: string | null;
  error: string | null;
  durationMs: number;
}

/**
 * POSTs signed deliveries with undici. Redirects are never followed (undici's `request` does not
 * follow them without the redirect interceptor), the whole exchange has a deadline, and — unless
 * private targets are allowed — connections go only to addresses `pinnedLookup` checked.
 */
export class WebhookSender {
  private agent: Promise<Agent> | null = null;

  constructor(
    private readonly allowPrivate: boolean,
    private readonly timeoutMs: number,
  ) {}

  private dispatcher(): Promise<Agent> {
    this.agent ??= loadUndici().then(
      ({ Agent }) =>
        new Agent({
          connect: this.allowPrivate
            ? { timeout: this.timeoutMs }
            : { timeout: this.timeoutMs, lookup: pinnedLookup },
          headersTimeout: this.timeoutMs,
          bodyTimeout: this.timeoutMs,
          keepAliveTimeout: 30_000,
          connections: 16,
        }),
    );
    return this.agent;
  }

  async send(url: string, headers: Record<string, string>, body: string): Promise<SendResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const target = new URL(url);
    // IP literals skip DNS (and so the pinned lookup): check them here.
    const host = hostOf(target);
    const refused = !this.allowPrivate && isIP(host) ? refusedAddress(host) : null;
    if (refused) return { status: null, body: null, error: `refused target: ${refused}`, durationMs: 0 };
    const { request, errors } = await loadUndici();
    try {
      const response = await request(target, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "Plugboard-Webhooks/1", ...headers },
        body,
        dispatcher: await this.dispatcher(),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await readCapped(response.body);
      return {
        status: response.statusCode,
        body: text.slice(0, STORED_BODY_CAP),
        error: null,
        durationMs: elapsed(),
      };
    } catch (error) {
      return {
        status: null,
        body: null,
        error: describe(error, errors, this.timeoutMs),
        durationMs: elapsed(),
      };
    }
  }

  async close(): Promise<void> {
    if (this.agent) await (await this.agent).close();
  }
}

async function readCapped(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= READ_CAP) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, READ_CAP).toString("utf8");
}

function describe(error: unknown, errors: typeof import("undici").errors, timeoutMs: number): string {
  if (
    error instanceof errors.HeadersTimeoutError ||
    error instanceof errors.BodyTimeoutError ||
    error instanceof errors.ConnectTimeoutError ||
    (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError"))
  ) {
    return `timeout: no complete response within ${timeoutMs / 1000} s`;
  }
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  const code = (error as { code?: string })?.code ?? cause?.code;
  const message = error instanceof Error ? error.message : String(error);
  return code ? `${code}: ${cause?.message ?? message}` : message;
}

import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { type DocumentNode, Kind, print } from "graphql";
import type { TokenSource } from "./auth.ts";
import {
  errorFrom,
  type GraphQLErrorBody,
  NetworkError,
  type PlugboardError,
  RateLimitError,
} from "./errors.ts";

export interface RetryOptions {
  /** Retries after the first attempt (default 3); 0 turns retrying off. */
  retries?: number;
  /** The first backoff (default 300 ms); each retry doubles it, with full jitter. */
  baseDelayMs?: number;
  /** No single wait is longer; a Retry-After beyond it is returned as the error instead (default 30 s). */
  maxDelayMs?: number;
}

export interface Transport {
  url: string;
  fetch: typeof fetch;
  tokens: TokenSource;
  retry: Required<RetryOptions>;
  headers: Record<string, string>;
}

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });

/** Full jitter (AWS's "Exponential Backoff And Jitter"): uniform in [0, base·2^attempt], capped. */
export function backoffMs(attempt: number, retry: Required<RetryOptions>): number {
  return Math.random() * Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** attempt);
}

/** Retry-After in ms: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfterMs(response: Response): number | undefined {
  const value = response.headers.get("retry-after");
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

/**
 * Sends one request, retrying what may be retried: network failures and 429/502/503/504 only when
 * `retryable` (reads, and writes that carry an idempotency key), after Retry-After when the server
 * sends it, else after a jittered exponential backoff. A 401 with a renewable credential (OAuth) is
 * retried once with a new token whatever the request: the server did nothing with it.
 */
export async function send(
  t: Transport,
  build: (headers: Record<string, string>) => RequestInit & { url?: string },
  retryable: boolean,
): Promise<Response> {
  let renewed = false;
  for (let attempt = 0; ; attempt++) {
    const token = await t.tokens.token();
    const headers: Record<string, string> = { ...t.headers };
    if (token) headers.authorization = `Bearer ${token}`;
    const { url = t.url, ...init } = build(headers);
    const canRetry = retryable && attempt < t.retry.retries;
    let response: Response;
    try {
      response = await t.fetch(url, init);
    } catch (cause) {
      if (canRetry) {
        await sleep(backoffMs(attempt, t.retry));
        continue;
      }
      throw new NetworkError(`Request to ${url} failed: ${String(cause)}`, "NETWORK_ERROR", 0, {}, [], {
        cause,
      });
    }
    if (response.status === 401 && !renewed && token) {
      const before = token;
      t.tokens.invalidate();
      if ((await t.tokens.token()) !== before) {
        renewed = true;
        attempt--;
        await response.body?.cancel();
        continue;
      }
    }
    if (canRetry && RETRYABLE_STATUS.has(response.status)) {
      const wait = retryAfterMs(response) ?? backoffMs(attempt, t.retry);
      if (wait <= t.retry.maxDelayMs) {
        await response.body?.cancel();
        await sleep(wait);
        continue;
      }
    }
    return response;
  }
}

/** The typed error for a response that is not a success. */
export async function failure(response: Response): Promise<PlugboardError> {
  const text = await response.text().catch(() => "");
  let errors: GraphQLErrorBody[] = [];
  try {
    errors = (JSON.parse(text) as { errors?: GraphQLErrorBody[] }).errors ?? [];
  } catch {}
  const error = errorFrom(response.status, errors, `HTTP ${response.status}: ${text.slice(0, 200)}`);
  if (error instanceof RateLimitError) error.retryAfterMs = retryAfterMs(response);
  return error;
}

const printed = new WeakMap<DocumentNode, { query: string; operation: string | undefined }>();

function describe(document: DocumentNode) {
  let entry = printed.get(document);
  if (!entry) {
    const definition = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
    entry = { query: print(document), operation: definition?.operation };
    printed.set(document, entry);
  }
  return entry;
}

/** A write is safe to send twice only when the server can recognise the second one. */
function carriesIdempotencyKey(variables: Record<string, unknown> | undefined): boolean {
  const input = variables?.input as Record<string, unknown> | undefined;
  return typeof input?.idempotencyKey === "string" || typeof variables?.idempotencyKey === "string";
}

export function isRetryable(document: DocumentNode, variables?: Record<string, unknown>): boolean {
  const { operation } = describe(document);
  return operation === "query" || (operation === "mutation" && carriesIdempotencyKey(variables));
}

/** Reads a GraphQL response: its data, or the typed error for its first error. */
export async function readResult<TResult>(response: Response): Promise<TResult> {
  const text = await response.text();
  let body: { data?: TResult | null; errors?: GraphQLErrorBody[] } | undefined;
  try {
    body = JSON.parse(text);
  } catch {}
  if (body?.data && !body.errors?.length) return body.data;
  const fallback = body ? "Empty response" : `HTTP ${response.status}: ${text.slice(0, 200)}`;
  const error = errorFrom(response.status, body?.errors ?? [], fallback);
  if (error instanceof RateLimitError) error.retryAfterMs = retryAfterMs(response);
  throw error;
}

/** Runs one typed operation over HTTP. */
export async function execute<TResult, TVariables>(
  t: Transport,
  document: TypedDocumentNode<TResult, TVariables>,
  variables: TVariables | undefined,
): Promise<TResult> {
  const vars = (variables ?? {}) as Record<string, unknown>;
  const { query } = describe(document);
  const body = JSON.stringify({ query, variables: vars });
  const response = await send(
    t,
    (headers) => ({
      method: "POST",
      headers: {
        ...headers,
        "content-type": "application/json",
        accept: "application/graphql-response+json, application/json",
      },
      body,
    }),
    isRetryable(document, vars),
  );
  return readResult<TResult>(response);
}

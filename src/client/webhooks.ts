import { createHmac, timingSafeEqual } from "node:crypto";
import { WebhookVerificationError } from "./errors.ts";
import type { ChangeKind } from "./generated.ts";

/** A change as a webhook delivers it (`data` of a `<resourceType>.<kind>` event). */
export interface WebhookChange {
  id: string;
  kind: ChangeKind;
  resourceType: string;
  resourceId: string;
  occurredAt: string;
  version: number;
  actor: { kind: string; memberId: string | null; credentialId: string | null };
  fields: {
    fieldId: string;
    key: string;
    name: string;
    previousValue: unknown;
    value: unknown;
    added?: unknown[];
    removed?: unknown[];
  }[];
  snapshot: Record<string, unknown>;
}

/**
 * A verified delivery. `id` is the `webhook-id` header: the same for every retry of one delivery, so
 * receivers de-duplicate on it. `type` is "<resourceType>.<created|updated|deleted|restored>" with
 * the change in `data`, or "ping" (from testWebhook).
 */
export interface WebhookEvent<TData = WebhookChange> {
  id: string;
  type: string;
  timestamp: string;
  webhookId: string;
  data: TData;
}

export type WebhookHeaders =
  | Headers
  | Record<string, string | readonly string[] | undefined>
  | { get(name: string): string | null };

export interface VerifyOptions {
  /** How far `webhook-timestamp` may be from now, in seconds (default 300, as Standard Webhooks advises). */
  toleranceSeconds?: number;
  /** The current time in ms (for tests). */
  now?: number;
}

const PREFIX = "whsec_";

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | readonly string[] | undefined>;
  const value =
    record[name] ?? Object.entries(record).find(([key]) => key.toLowerCase() === name)?.[1] ?? undefined;
  return Array.isArray(value) ? value[0] : (value as string | undefined);
}

/**
 * Verifies a delivery by the Standard Webhooks spec (standardwebhooks.com): an HMAC-SHA256 with the
 * webhook's secret over `id.timestamp.body`, compared in constant time against each `v1,` signature
 * of the header (during a secret rotation there are two), and a timestamp within the tolerance so a
 * captured request cannot be replayed later. Pass the body exactly as received (a re-serialised
 * JSON object does not verify). Returns the parsed event; throws `WebhookVerificationError`.
 */
export function verifyWebhook<TData = WebhookChange>(
  secret: string,
  rawBody: string | Uint8Array,
  headers: WebhookHeaders,
  options: VerifyOptions = {},
): WebhookEvent<TData> {
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!id || !timestamp || !signatures) {
    throw new WebhookVerificationError(
      "MISSING_HEADERS",
      "webhook-id, webhook-timestamp and webhook-signature are required.",
    );
  }
  const seconds = Number(timestamp);
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  const tolerance = options.toleranceSeconds ?? 300;
  if (!Number.isInteger(seconds) || now - seconds > tolerance) {
    throw new WebhookVerificationError("TIMESTAMP_TOO_OLD", "The webhook-timestamp is too old.");
  }
  if (seconds - now > tolerance) {
    throw new WebhookVerificationError("TIMESTAMP_IN_FUTURE", "The webhook-timestamp is in the future.");
  }
  const body = typeof rawBody === "string" ? Buffer.from(rawBody, "utf8") : Buffer.from(rawBody);
  const key = Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, "base64");
  const expected = createHmac("sha256", key).update(`${id}.${timestamp}.`).update(body).digest();
  const matches = signatures.split(" ").some((entry) => {
    const [version, signature] = entry.split(",", 2);
    if (version !== "v1" || !signature) return false;
    const given = Buffer.from(signature, "base64");
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) {
    throw new WebhookVerificationError("INVALID_SIGNATURE", "No signature matches this secret.");
  }
  let payload: Omit<WebhookEvent<TData>, "id">;
  try {
    payload = JSON.parse(body.toString("utf8"));
  } catch {
    throw new WebhookVerificationError("INVALID_BODY", "The body is not JSON.");
  }
  return { ...payload, id };
}

import type { AttemptOutcome } from "./queue.ts";
import type { SendResult } from "./send.ts";

/** ±10%, so receivers that failed together are not retried in lockstep. */
const JITTER = 0.1;

/**
 * The retry policy (docs/changes-and-webhooks.md, "Retries, failures and status"), kept pure so it
 * can be read and tested apart from the HTTP and the queue: a 2xx succeeds; 410 Gone gives up and
 * disables the webhook; anything else is retried after the schedule's next delay (counted in
 * attempts since the last (re)start, so a redelivery gets the whole schedule again) until the
 * schedule runs out.
 */
export function attemptOutcome(
  result: SendResult,
  attempt: { deliveryId: string; webhookId: string; roundAttempts: number; at: Date },
  schedule: readonly number[],
  now = Date.now(),
  random = Math.random,
): AttemptOutcome {
  const ok = result.status !== null && result.status >= 200 && result.status < 300;
  const gone = result.status === 410;
  const delay = schedule[attempt.roundAttempts];
  const retry = !ok && !gone && delay !== undefined;
  const jitter = 1 - JITTER + random() * 2 * JITTER;
  return {
    deliveryId: attempt.deliveryId,
    webhookId: attempt.webhookId,
    at: attempt.at,
    responseStatus: result.status,
    durationMs: result.durationMs,
    error: result.error ?? (ok ? null : `HTTP ${result.status}`),
    responseBody: result.body,
    status: ok ? "SUCCEEDED" : retry ? "PENDING" : "FAILED",
    nextAttemptAt: retry ? new Date(now + delay * 1000 * jitter) : null,
    effect: ok ? "succeeded" : gone ? "gone" : "failed",
  };
}

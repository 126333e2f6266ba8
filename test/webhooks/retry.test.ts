import { describe, expect, it } from "vitest";
import { attemptOutcome } from "../../src/webhooks/retry.ts";
import type { SendResult } from "../../src/webhooks/send.ts";

/** The retry policy on its own: what each answer does to the delivery and the webhook. */
const at = new Date("2026-01-01T00:00:00.000Z");
const now = at.getTime() + 40;
const schedule = [5, 300];
const answer = (status: number | null, error: string | null = null): SendResult => ({
  status,
  body: status === null ? null : `answer ${status}`,
  error,
  durationMs: 12,
});
const outcome = (result: SendResult, roundAttempts: number, random = () => 0.5) =>
  attemptOutcome(
    result,
    { deliveryId: "dlv_1", webhookId: "whk_1", roundAttempts, at },
    schedule,
    now,
    random,
  );

describe("attemptOutcome", () => {
  it("succeeds on any 2xx, with no retry", () => {
    for (const status of [200, 204, 299]) {
      expect(outcome(answer(status), 0)).toMatchObject({
        status: "SUCCEEDED",
        nextAttemptAt: null,
        effect: "succeeded",
        error: null,
        responseStatus: status,
        responseBody: `answer ${status}`,
        durationMs: 12,
        at,
      });
    }
  });

  it("retries after the schedule's delay for the attempts made so far, jittered by ±10%", () => {
    expect(outcome(answer(500), 0).nextAttemptAt?.getTime()).toBe(now + 5_000);
    expect(outcome(answer(500), 1).nextAttemptAt?.getTime()).toBe(now + 300_000);
    expect(outcome(answer(500), 0, () => 0).nextAttemptAt?.getTime()).toBe(now + 4_500);
    expect(outcome(answer(500), 0, () => 1).nextAttemptAt?.getTime()).toBe(now + 5_500);
    expect(outcome(answer(500), 0)).toMatchObject({ status: "PENDING", effect: "failed", error: "HTTP 500" });
    expect(outcome(answer(302), 0)).toMatchObject({ status: "PENDING", error: "HTTP 302" });
  });

  it("gives up once the schedule is used up: 1 + its length attempts", () => {
    expect(outcome(answer(503), 2)).toMatchObject({
      status: "FAILED",
      nextAttemptAt: null,
      effect: "failed",
    });
  });

  it("gives up at once on 410 Gone, which disables the webhook", () => {
    expect(outcome(answer(410), 0)).toMatchObject({ status: "FAILED", nextAttemptAt: null, effect: "gone" });
  });

  it("keeps the sender's reason when there was no response", () => {
    expect(outcome(answer(null, "timeout: no complete response within 10 s"), 0)).toMatchObject({
      status: "PENDING",
      responseStatus: null,
      error: "timeout: no complete response within 10 s",
    });
  });
});

import { randomUUID } from "node:crypto";
import type { Db } from "../kernel/index.ts";
import { type AttemptOutcome, claimWebhooks, leasedWebhook, recordAttempts, releaseLease } from "./queue.ts";
import type { WebhookRow } from "./tables.ts";

/** Attempts are recorded in batches of at most this many, or this old (one commit each). */
const RECORD_BATCH = 20;
const RECORD_MS = 100;

/**
 * This process's leases on webhooks. A lease makes one process at a time deliver a webhook's
 * changes, in order; it is renewed before each batch and with each recorded batch of attempts, and
 * a killed process's lease simply lapses (it outlives the slowest attempt comfortably).
 */
export class WebhookLeases {
  readonly owner = randomUUID();

  constructor(
    private readonly db: Db,
    readonly seconds: number,
  ) {}

  /** Leases up to `limit` webhooks that have deliveries due; their ids. */
  claim(limit: number): Promise<string[]> {
    return claimWebhooks(this.db, this.owner, limit, this.seconds);
  }

  /** Renews the lease and reads the webhook; null once the lease is lost or the webhook disabled or deleted. */
  renew(id: string): Promise<WebhookRow | null> {
    return leasedWebhook(this.db, id, this.owner, this.seconds);
  }

  release(id: string): Promise<void> {
    return releaseLease(this.db, id, this.owner);
  }

  /** A log for one lane's attempts, recorded under this lease. */
  attemptLog(): AttemptLog {
    return new AttemptLog(this.db, this.owner, this.seconds);
  }
}

/**
 * A lane's attempt outcomes, recorded in small batches: one commit per attempt is what bounded
 * throughput. A crash before a batch is recorded only means sending those deliveries again, which
 * receivers dedupe by `webhook-id`. Recording also renews the lease and notices a disable, a delete
 * or a lost lease: `add` and `flush` return false when the lane must stop.
 */
export class AttemptLog {
  private unrecorded: AttemptOutcome[] = [];
  private since = 0;

  constructor(
    private readonly db: Db,
    private readonly owner: string,
    private readonly leaseSeconds: number,
  ) {}

  async add(outcome: AttemptOutcome): Promise<boolean> {
    if (this.unrecorded.length === 0) this.since = Date.now();
    this.unrecorded.push(outcome);
    if (this.unrecorded.length >= RECORD_BATCH || Date.now() - this.since > RECORD_MS) return this.flush();
    return true;
  }

  async flush(): Promise<boolean> {
    const batch = this.unrecorded;
    this.unrecorded = [];
    return recordAttempts(this.db, batch, this.owner, this.leaseSeconds);
  }
}

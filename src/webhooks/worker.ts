import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { Db, Env } from "../kernel/index.ts";
import { AppError } from "../kernel/index.ts";
import type { ChangeFeed } from "../ledger/index.ts";
import { canSeeSchemaChange } from "../ledger/index.ts";
import type { CatalogStore } from "../metadata/index.ts";
import {
  creatorActor,
  eventTypeOf,
  payloadData,
  recordOf,
  resolveForCreator,
  storedData,
} from "./creator.ts";
import {
  type AttemptOutcome,
  activeWebhooks,
  claimWebhooks,
  disableWebhook,
  dueDeliveries,
  enqueue,
  leasedWebhook,
  markSkipped,
  type NewDelivery,
  pruneDeliveries,
  recordAttempts,
  releaseLease,
} from "./queue.ts";
import { WebhookSender } from "./send.ts";
import { signatureHeader } from "./signing.ts";
import type { DeliveryRow, WebhookRow } from "./tables.ts";

/** Cross-process safety net: how often every process looks for work others enqueued (or retries due). */
const POLL_MS = 250;
/** How many webhooks one process delivers for at once (each in change order). */
const LANES = 16;
const ADVANCE_PAGE = 500;
const DUE_PAGE = 50;
const PRUNE_EVERY_MS = 10 * 60_000;
const RECORD_BATCH = 20;
const RECORD_MS = 100;
export const CREATOR_LEFT = "The webhook's creator left the workspace.";

/**
 * The delivery worker, one per process. It is a consumer of the change feed: (1) each active
 * webhook's cursor advances through `readAfter` + `trim` as its creator, enqueueing deliveries in
 * the database; (2) webhooks with due deliveries are leased and their deliveries POSTed in change
 * order; a failed attempt is rescheduled and the next change goes on. Everything is in the
 * database, so a killed process loses nothing: its lease lapses and another process resumes.
 */
export class WebhookWorker {
  private readonly owner = randomUUID();
  private readonly sender: WebhookSender;
  private readonly lanes = new Map<string, Promise<void>>();
  private readonly leaseSeconds: number;
  private timer: NodeJS.Timeout | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;
  private advancing: Promise<void> | null = null;
  private advanceAgain = false;
  private claiming = false;
  private stopped = false;
  /**
   * Whether the last look found any active webhook. Without one, a feed advance has nothing to
   * enqueue, so it costs no queries; the timer keeps looking (a webhook created through another
   * process is found within POLL_MS, and its cursor loses nothing meanwhile).
   */
  private anyActive = true;
  /**
   * A feed advanced (this process's sequencer, or another's NOTIFY, both through the notifier that
   * services.ts subscribes this to): look for work if any can exist.
   */
  readonly feedAdvanced = (): void => {
    if (this.anyActive || this.lanes.size > 0) this.kick();
  };

  constructor(
    private readonly db: Db,
    private readonly env: Env,
    private readonly logger: Logger,
    private readonly feed: ChangeFeed,
    private readonly catalogs: CatalogStore,
  ) {
    this.sender = new WebhookSender(env.PLUGBOARD_WEBHOOK_ALLOW_PRIVATE, env.PLUGBOARD_WEBHOOK_TIMEOUT_MS);
    // A lease outlives the slowest attempt comfortably; it is renewed before every attempt.
    this.leaseSeconds = Math.ceil((env.PLUGBOARD_WEBHOOK_TIMEOUT_MS * 3) / 1000) + 5;
  }

  start(slower = 1): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.kick(), POLL_MS * slower);
    this.timer.unref();
    const prune = () =>
      pruneDeliveries(this.db, this.env.PLUGBOARD_CHANGE_RETENTION_DAYS).catch((error) =>
        this.logger.warn({ err: error }, "pruning webhook deliveries failed; will retry"),
      );
    this.pruneTimer = setInterval(() => void prune(), PRUNE_EVERY_MS);
    this.pruneTimer.unref();
  }

  /** Look for work now: new changes to enqueue, then due deliveries (coalesces concurrent calls). */
  kick(): void {
    if (this.stopped) return;
    if (this.advancing) {
      this.advanceAgain = true;
      return;
    }
    this.advancing = (async () => {
      try {
        do {
          this.advanceAgain = false;
          await this.advanceAll();
          await this.claim();
        } while (this.advanceAgain && !this.stopped);
      } catch (error) {
        this.logger.warn({ err: error }, "webhook worker pass failed; will retry");
      } finally {
        this.advancing = null;
      }
    })();
  }

  private async advanceAll(): Promise<void> {
    const { active, behind } = await activeWebhooks(this.db);
    this.anyActive = active > 0;
    for (const id of behind) {
      try {
        while (!this.stopped && (await this.advance(id))) {}
      } catch (error) {
        this.logger.warn({ err: error, webhookId: id }, "advancing a webhook failed; will retry");
      }
    }
  }

  /** One page of the feed for one webhook; true when there may be more. */
  async advance(id: string): Promise<boolean> {
    const webhook = await this.db.query.webhooks.findFirst({ where: (w, { eq }) => eq(w.id, id) });
    if (webhook?.status !== "ACTIVE") return false;
    const actor = await creatorActor(this.db, webhook);
    if (!actor) {
      await disableWebhook(this.db, webhook.id, CREATOR_LEFT);
      return false;
    }
    const catalog = await this.catalogs.get(webhook.workspaceId);
    const filter = resolveForCreator(this.feed, catalog, actor, webhook.filter);
    let page: Awaited<ReturnType<ChangeFeed["readAfter"]>>;
    try {
      page = await this.feed.readAfter(webhook.workspaceId, webhook.cursor, ADVANCE_PAGE, filter);
    } catch (error) {
      if (!(error instanceof AppError && error.code === "CURSOR_EXPIRED")) throw error;
      // Disabled longer than the feed keeps changes: resume at the oldest retained one, and say so.
      const oldest = Number(error.extensions.oldestCursor);
      this.logger.warn({ webhookId: id, cursor: webhook.cursor, oldest }, "webhook cursor expired");
      return enqueue(this.db, webhook, webhook.cursor, oldest, []);
    }
    const deliveries: NewDelivery[] = page.records.map((record) => {
      const view = this.feed.trim(catalog, actor, record);
      return view
        ? {
            changeSeq: Number(record.seq),
            eventType: eventTypeOf(view),
            data: storedData(view),
            status: "PENDING",
          }
        : {
            changeSeq: Number(record.seq),
            eventType: `${record.resource_type_key}.${record.kind.toLowerCase()}`,
            data: {},
            status: "SKIPPED",
          };
    });
    if (page.scannedTo <= webhook.cursor) return false;
    const moved = await enqueue(this.db, webhook, webhook.cursor, page.scannedTo, deliveries);
    return moved && page.scannedTo < page.head;
  }

  private async claim(): Promise<void> {
    if (this.claiming || this.stopped) return;
    this.claiming = true;
    try {
      const free = LANES - this.lanes.size;
      if (free <= 0) return;
      const ids = await claimWebhooks(this.db, this.owner, free, this.leaseSeconds);
      for (const id of ids) {
        const lane = this.deliverFor(id).finally(() => {
          this.lanes.delete(id);
          this.kick();
        });
        this.lanes.set(id, lane);
      }
    } finally {
      this.claiming = false;
    }
  }

  /** Delivers a leased webhook's due deliveries in change order, then releases the lease. */
  private async deliverFor(id: string): Promise<void> {
    try {
      for (;;) {
        if (this.stopped) return;
        const webhook = await leasedWebhook(this.db, id, this.owner, this.leaseSeconds);
        if (!webhook) return;
        const due = await dueDeliveries(this.db, id, DUE_PAGE);
        if (due.length === 0) return;
        const actor = await creatorActor(this.db, webhook);
        if (!actor) return disableWebhook(this.db, id, CREATOR_LEFT);
        const catalog = await this.catalogs.get(webhook.workspaceId);
        // Attempts are recorded in small batches (one commit each); a crash before a batch is
        // recorded only means sending those deliveries again, which receivers dedupe by webhook-id.
        let unrecorded: AttemptOutcome[] = [];
        let since = 0;
        const flush = async () => {
          const keep = await recordAttempts(this.db, unrecorded, this.owner, this.leaseSeconds);
          unrecorded = [];
          return keep;
        };
        for (const delivery of due) {
          if (this.stopped) break;
          let data: Record<string, unknown> = {};
          if (delivery.eventType.startsWith("schema.")) {
            // Enqueued for the creator's role; a type or field hidden from it since is not sent.
            const { resourceTypeId, fieldId } = delivery.data as {
              resourceTypeId: string;
              fieldId: string | null;
            };
            if (
              !canSeeSchemaChange(catalog, actor, { resourceTypeId, fieldId, readableRoles: [actor.role] })
            ) {
              await markSkipped(this.db, delivery.id);
              continue;
            }
            data = delivery.data;
          } else if (delivery.changeSeq !== null) {
            // Re-trimmed with the creator's access as it is now: a field hidden since enqueueing stays hidden.
            const view = this.feed.trim(catalog, actor, recordOf(delivery.data));
            if (!view) {
              await markSkipped(this.db, delivery.id);
              continue;
            }
            data = payloadData(view);
          }
          const outcome = await this.attempt(webhook, delivery, data);
          if (unrecorded.length === 0) since = Date.now();
          unrecorded.push(outcome);
          if (outcome.effect === "gone") break;
          if (unrecorded.length >= RECORD_BATCH || Date.now() - since > RECORD_MS) {
            // Also renews the lease, and notices a disable or a delete before the next attempt.
            if (!(await flush())) return;
          }
        }
        if (!(await flush())) return;
      }
    } catch (error) {
      this.logger.warn({ err: error, webhookId: id }, "webhook delivery pass failed; will retry");
    } finally {
      await releaseLease(this.db, id, this.owner).catch(() => {});
    }
  }

  private async attempt(
    webhook: WebhookRow,
    delivery: DeliveryRow,
    data: Record<string, unknown>,
  ): Promise<AttemptOutcome> {
    const at = new Date();
    const body = JSON.stringify({
      type: delivery.eventType,
      timestamp: at.toISOString(),
      webhookId: webhook.id,
      data,
    });
    const timestamp = Math.floor(at.getTime() / 1000);
    const secrets = [webhook.secret];
    if (webhook.previousSecret && webhook.previousSecretExpiresAt && webhook.previousSecretExpiresAt > at) {
      secrets.push(webhook.previousSecret);
    }
    const result = await this.sender.send(
      webhook.url,
      {
        "webhook-id": delivery.id,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": signatureHeader(secrets, delivery.id, timestamp, body),
      },
      body,
    );
    const ok = result.status !== null && result.status >= 200 && result.status < 300;
    const gone = result.status === 410;
    const schedule = this.env.PLUGBOARD_WEBHOOK_RETRY_SCHEDULE;
    const attemptsInRound = delivery.roundAttempts + 1;
    const delay = schedule[attemptsInRound - 1];
    const retry = !ok && !gone && delay !== undefined;
    const jitter = 0.9 + Math.random() * 0.2; // ±10%, so failing receivers are not hit in lockstep
    return {
      deliveryId: delivery.id,
      webhookId: webhook.id,
      at,
      responseStatus: result.status,
      durationMs: result.durationMs,
      error: result.error ?? (ok ? null : `HTTP ${result.status}`),
      responseBody: result.body,
      status: ok ? "SUCCEEDED" : retry ? "PENDING" : "FAILED",
      nextAttemptAt: retry ? new Date(Date.now() + delay * 1000 * jitter) : null,
      effect: ok ? "succeeded" : gone ? "gone" : "failed",
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.timer = null;
    await this.advancing;
    await Promise.allSettled(this.lanes.values());
    await this.sender.close();
  }
}

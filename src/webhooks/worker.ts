import type { Logger } from "pino";
import type { Db, Env } from "../kernel/index.ts";
import { AppError } from "../kernel/index.ts";
import type { ChangeFeed } from "../ledger/index.ts";
import type { CatalogStore } from "../metadata/index.ts";
import { creatorActor, resolveForCreator } from "./creator.ts";
import { WebhookLeases } from "./lease.ts";
import { CHANGE_NOT_RETAINED, eventTypeOfRecord, type Prepared, preparePayloads } from "./payloads.ts";
import { postDelivery } from "./post.ts";
import {
  activeWebhooks,
  disableWebhook,
  dueDeliveries,
  enqueue,
  markSkipped,
  markUnsendable,
  pruneDeliveries,
} from "./queue.ts";
import { attemptOutcome } from "./retry.ts";
import { WebhookSender } from "./send.ts";
import type { WebhookRow } from "./tables.ts";

/** Cross-process safety net: how often every process looks for work others enqueued (or retries due). */
const POLL_MS = 250;
/** How many webhooks one process delivers for at once (each in change order). */
const LANES = 16;
const ADVANCE_PAGE = 500;
const DUE_PAGE = 50;
const PRUNE_EVERY_MS = 10 * 60_000;
export const CREATOR_LEFT = "The webhook's creator left the workspace.";

/**
 * The delivery worker, one per process, and only its orchestration: when to look for work, and in
 * which order the units run. It is a consumer of the change feed: (1) each active webhook's cursor
 * advances through `readAfter` with its creator's filter, enqueueing the ids of matching changes;
 * (2) webhooks with due deliveries are leased (`lease.ts`), their payloads built for the creator
 * (`payloads.ts`), POSTed signed (`post.ts`) in change order, and each outcome decided by the retry
 * policy (`retry.ts`); a failed attempt is rescheduled and the next change goes on. Everything is in
 * the database, so a killed process loses nothing: its lease lapses and another process resumes.
 */
export class WebhookWorker {
  private readonly sender: WebhookSender;
  private readonly leases: WebhookLeases;
  private readonly lanes = new Map<string, Promise<void>>();
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
    // A lease outlives the slowest attempt comfortably.
    this.leases = new WebhookLeases(db, Math.ceil((env.PLUGBOARD_WEBHOOK_TIMEOUT_MS * 3) / 1000) + 5);
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
    // Only the ids: the change is read and trimmed for the creator when it is sent.
    const deliveries = page.records.map((record) => ({
      changeSeq: Number(record.seq),
      eventType: eventTypeOfRecord(catalog, record),
    }));
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
      const ids = await this.leases.claim(free);
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
        const webhook = await this.leases.renew(id);
        if (!webhook) return;
        const due = await dueDeliveries(this.db, id, DUE_PAGE);
        if (due.length === 0) return;
        const actor = await creatorActor(this.db, webhook);
        if (!actor) return disableWebhook(this.db, id, CREATOR_LEFT);
        const catalog = await this.catalogs.get(webhook.workspaceId);
        const prepared = await preparePayloads(this.feed, catalog, actor, webhook.workspaceId, due);
        await markSkipped(this.db, idsOf(prepared, "skip"));
        await markUnsendable(this.db, idsOf(prepared, "unsendable"), CHANGE_NOT_RETAINED);
        if (!(await this.sendInOrder(webhook, prepared))) return;
      }
    } catch (error) {
      this.logger.warn({ err: error, webhookId: id }, "webhook delivery pass failed; will retry");
    } finally {
      await this.leases.release(id).catch(() => {});
    }
  }

  /** POSTs a batch's sendable deliveries one at a time, in change order; false when the lane must stop. */
  private async sendInOrder(webhook: WebhookRow, prepared: Prepared[]): Promise<boolean> {
    const log = this.leases.attemptLog();
    for (const item of prepared) {
      if (this.stopped) break;
      if (item.action !== "send") continue;
      const at = new Date();
      const result = await postDelivery(this.sender, webhook, item.delivery, item.data, at);
      const outcome = attemptOutcome(
        result,
        {
          deliveryId: item.delivery.id,
          webhookId: webhook.id,
          roundAttempts: item.delivery.roundAttempts,
          at,
        },
        this.env.PLUGBOARD_WEBHOOK_RETRY_SCHEDULE,
      );
      const keep = await log.add(outcome);
      // Gone disables the webhook: nothing more is sent, not even the rest of this batch.
      if (outcome.effect === "gone") break;
      if (!keep) return false;
    }
    return log.flush();
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

const idsOf = (prepared: Prepared[], action: Prepared["action"]) =>
  prepared.flatMap((p) => (p.action === action ? [p.delivery.id] : []));

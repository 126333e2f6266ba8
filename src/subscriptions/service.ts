import type { Logger } from "pino";
import type { Actor, Authenticator } from "../auth/index.ts";
import type { Listen } from "../kernel/index.ts";
import { AppError, fail } from "../kernel/index.ts";
import type { Sequencer } from "../ledger/index.ts";
import {
  type ChangeFeed,
  type ChangeFilter,
  type ChangeRecord,
  type ChangeView,
  parseCursor,
  type SchemaChangeFeed,
  type SchemaChangeView,
} from "../ledger/index.ts";
import { credentialKey } from "../limits/index.ts";
import type { Catalog, CatalogStore } from "../metadata/index.ts";
import { type CredentialHolder, CredentialWatch } from "./credentials.ts";
import { Notifier } from "./notifier.ts";
import { schemaChangeStream } from "./schemaStream.ts";
import { ChangeSubscription } from "./subscription.ts";
import { FeedTail } from "./tail.ts";

/** Changes read per page; also the most one subscription holds in memory at a time. */
const PAGE_SIZE = 100;
/**
 * The safety net for lost notifications: each workspace's tail re-reads the feed this often and
 * wakes its subscribers when it finds something new — one read per workspace, not per subscriber.
 */
const POLL_MS = 1_500;
/** And a caught-up subscriber re-reads on its own at least this often, whatever happens. */
const IDLE_WAKE_MS = 30_000;
/** How long `close()` lets open streams finish before the sockets are cut. */
const CLOSE_TIMEOUT_MS = 5_000;

export interface ChangeStreamOptions {
  filter: ChangeFilter | null;
  after: string | null | undefined;
  /** Called when the credential is revoked, before the stream ends (WebSocket: close with 4403). */
  onRevoked?: (() => void) | undefined;
}

/**
 * `Subscription.changes`: a consumer of the change feed with its own cursor (docs/architecture.md,
 * invariant 2).
 *
 * Each stream loops: read a page after its cursor, trim it for its actor, yield the visible
 * changes, advance the cursor to how far the page scanned, and — when caught up — sleep until the
 * workspace's feed advances. Replay and live are the same loop, so the seam has no gap and no
 * duplicate.
 *
 * Pull-based, so memory is bounded: a page is read only when the consumer has taken everything
 * before it, and graphql-ws awaits each socket write. A slow consumer holds at most one page and
 * falls behind in the feed, not in memory; it catches up from the feed (or gets CURSOR_EXPIRED if
 * it falls behind the retention horizon).
 */
export class SubscriptionService {
  readonly notifier: Notifier;
  private readonly credentials: CredentialWatch;
  private readonly tails = new Map<string, { tail: FeedTail; users: number }>();
  private readonly open = new Set<ChangeSubscription>();
  private readonly finished = new Set<() => void>();
  private closed = false;
  private poller: NodeJS.Timeout | null = null;

  constructor(
    private readonly feed: ChangeFeed,
    private readonly catalogs: CatalogStore,
    sequencer: Sequencer,
    auth: Authenticator,
    listen: Listen | undefined,
    private readonly logger: Logger,
  ) {
    this.notifier = new Notifier(sequencer, listen, logger);
    this.credentials = new CredentialWatch(auth, logger);
  }

  start(): Promise<void> {
    this.poller = setInterval(() => void this.poll(), POLL_MS);
    this.poller.unref();
    return this.notifier.start();
  }

  private async poll(): Promise<void> {
    await Promise.all(
      [...this.tails].map(async ([workspaceId, { tail }]) => {
        try {
          await tail.refresh(this.notifier.head(workspaceId));
          this.notifier.observe(workspaceId, tail.head);
        } catch (error) {
          this.logger.warn({ err: error, workspaceId }, "subscription poll failed; will retry");
        }
      }),
    );
  }

  /** Open streams one credential may hold in this process (README "Limits"). */
  maxPerCredential = Number.POSITIVE_INFINITY;

  private checkOpenLimit(actor: Actor): void {
    const key = credentialKey(actor);
    let count = 0;
    for (const open of this.open) if (credentialKey(open.actor) === key) count++;
    for (const open of this.schemaStreams) if (credentialKey(open.actor) === key) count++;
    if (count >= this.maxPerCredential) {
      throw new AppError(
        "RATE_LIMITED",
        `This credential has ${count} open subscriptions, the most it may hold; close one (or reuse one with a wider filter) first.`,
        { limit: this.maxPerCredential },
      );
    }
  }

  /**
   * Watches something long-lived that holds a credential (a WebSocket connection): it is told when
   * the credential stops working or its member's role changes. Returns the way to stop watching.
   */
  watchCredential(holder: CredentialHolder): () => void {
    return this.credentials.add(holder);
  }

  /** How many streams are open in this process. */
  get size(): number {
    return this.open.size;
  }

  /**
   * Checks the arguments (bad filters and cursors fail here, before the stream starts) and returns
   * the stream. Without `after` it starts at the head.
   */
  async changes(actor: Actor, options: ChangeStreamOptions): Promise<AsyncIterableIterator<ChangeView>> {
    if (this.closed) throw new AppError("INTERNAL_SERVER_ERROR", "The server is shutting down; reconnect.");
    this.checkOpenLimit(actor);
    const catalog = await this.catalogs.get(actor.workspaceId);
    const filter = this.feed.resolveFilter(catalog, actor, options.filter);
    const after = parseCursor(options.after);
    // Reading once up front turns an expired cursor into CURSOR_EXPIRED now, not mid-stream.
    // …and one past the head into BAD_USER_INPUT (it would skip every change numbered up to it).
    if (after !== null) await this.feed.readAfter(actor.workspaceId, after, 1, filter, true);
    const start = after ?? (await this.feed.settledHead(actor.workspaceId));
    const subscription = new ChangeSubscription(actor, options.filter, start, this.feed);
    subscription.resolve(catalog);
    const generator = this.run(subscription, options.onRevoked);
    // An async generator waits for its pending `await` before handling `return()`: wake it first,
    // so an unsubscribe takes effect at once instead of after the fallback timer.
    const iterator: AsyncIterableIterator<ChangeView> = {
      [Symbol.asyncIterator]: () => iterator,
      next: () => generator.next(),
      return: (value?: unknown) => {
        subscription.end();
        return generator.return(value as undefined);
      },
      throw: (error?: unknown) => {
        subscription.end();
        return generator.throw(error);
      },
    };
    return iterator;
  }

  private async *run(
    subscription: ChangeSubscription,
    onRevoked: (() => void) | undefined,
  ): AsyncGenerator<ChangeView, void, undefined> {
    const workspaceId = subscription.workspaceId;
    const tail = this.acquireTail(workspaceId);
    const unsubscribe = this.notifier.subscribe(workspaceId, subscription);
    const unwatch = this.credentials.add(subscription);
    this.open.add(subscription);
    try {
      for (;;) {
        if (subscription.revoked) {
          onRevoked?.();
          throw fail.unauthenticated(
            "The credential of this subscription was revoked or expired, or its member removed; subscribe again with a valid one.",
            true,
          );
        }
        if (subscription.ended) return;
        subscription.arm();
        const page = await this.readPage(subscription, tail);
        let complete = true;
        for (const change of page.changes) {
          if (subscription.ended || subscription.revoked) {
            complete = false;
            break;
          }
          yield change;
          subscription.cursor = Number(change.id);
        }
        if (!complete) continue;
        subscription.cursor = Math.max(subscription.cursor, page.scannedTo);
        if (!page.more) await subscription.wait(IDLE_WAKE_MS);
      }
    } finally {
      this.open.delete(subscription);
      unwatch();
      unsubscribe();
      this.releaseTail(workspaceId);
      if (this.open.size === 0) for (const done of this.finished) done();
    }
  }

  /** The next page for a subscriber: from the shared tail when its cursor is recent, else the feed. */
  private async readPage(
    subscription: ChangeSubscription,
    tail: FeedTail,
  ): Promise<{ changes: ChangeView[]; scannedTo: number; more: boolean }> {
    const { workspaceId, cursor } = subscription;
    await tail.refresh(this.notifier.head(workspaceId));
    let records: ChangeRecord[];
    let catalog: Catalog;
    let scannedTo: number;
    let head: number;
    const tailCatalog = tail.currentCatalog;
    if (tailCatalog && tail.covers(cursor)) {
      catalog = tailCatalog;
      ({ records, scannedTo, head } = tail.read(cursor, PAGE_SIZE, subscription.resolve(catalog)));
    } else {
      catalog = await this.catalogs.get(workspaceId);
      ({ records, scannedTo, head } = await this.feed.readAfter(
        workspaceId,
        cursor,
        PAGE_SIZE,
        subscription.resolve(catalog),
      ));
    }
    const changes: ChangeView[] = [];
    for (const record of records) {
      const view = this.feed.trim(catalog, subscription.actor, record);
      if (view) changes.push(view);
    }
    return { changes, scannedTo, more: scannedTo < head };
  }

  private acquireTail(workspaceId: string): FeedTail {
    let entry = this.tails.get(workspaceId);
    if (!entry) {
      entry = { tail: new FeedTail(workspaceId, this.feed, this.catalogs), users: 0 };
      this.tails.set(workspaceId, entry);
    }
    entry.users++;
    return entry.tail;
  }

  private releaseTail(workspaceId: string): void {
    const entry = this.tails.get(workspaceId);
    if (entry && --entry.users === 0) this.tails.delete(workspaceId);
  }

  /**
   * `Subscription.schemaChanges`: checks the cursor now (a bad one fails before the stream starts),
   * then streams from it (without one, from the newest schema change).
   */
  async schemaChanges(
    actor: Actor,
    options: { after: string | null | undefined; onRevoked?: (() => void) | undefined },
  ): Promise<AsyncIterableIterator<SchemaChangeView>> {
    if (this.closed) throw new AppError("INTERNAL_SERVER_ERROR", "The server is shutting down; reconnect.");
    if (!this.schemaFeed) throw new Error("schema change feed not wired");
    this.checkOpenLimit(actor);
    const after = parseCursor(options.after);
    // Reading once checks the cursor (not past the newest) and finds the newest for "from now".
    const { headCursor } = await this.schemaFeed.page(actor, { after: options.after ?? null, first: 1 });
    const start = after ?? Number(headCursor);
    const stream = schemaChangeStream(
      this.schemaFeed,
      this.catalogs,
      (holder) => this.credentials.add(holder),
      actor,
      start,
      options.onRevoked,
    );
    // Counted with the change streams against the per-credential limit while it is open.
    const entry = { actor };
    const streams = this.schemaStreams;
    return (async function* tracked() {
      streams.add(entry);
      try {
        yield* stream;
      } finally {
        streams.delete(entry);
      }
    })();
  }

  private readonly schemaStreams = new Set<{ actor: Actor }>();

  /** The schema change log (wired after construction: services.ts builds both). */
  schemaFeed: SchemaChangeFeed | null = null;

  /** Graceful shutdown: completes every open stream (clients get `complete`), then stops listening. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.open.size > 0) {
      const drained = new Promise<void>((resolve) => this.finished.add(resolve));
      for (const subscription of this.open) subscription.end();
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, CLOSE_TIMEOUT_MS).unref());
      await Promise.race([drained, timeout]);
      if (this.open.size > 0) this.logger.warn({ open: this.open.size }, "subscriptions still open at close");
    }
    if (this.poller) clearInterval(this.poller);
    this.credentials.stop();
    await this.notifier.stop();
  }
}

import type { ChangeFeed, ChangeRecord } from "../ledger/index.ts";
import { everyChange, type ResolvedFilter } from "../ledger/index.ts";
import type { Catalog, CatalogStore } from "../metadata/index.ts";

/** How many of the newest stored changes a tail keeps for its subscribers. */
const TAIL_SIZE = 2_000;
/** Rows per feed read when the tail catches up. */
const READ_SIZE = 500;
/** A tail with no news re-reads the feed at most this often (covers lost notifications). */
const STALE_MS = 1_000;

/**
 * The newest end of one workspace's change feed, read once for all of its subscribers in this
 * process. Without it every subscriber would run its own feed query on every commit: 1,000
 * subscribers × 200 commits/s. The tail reads with the feed's own `readAfter` (every type, no other
 * condition), and each subscriber applies its filter and `ChangeFeed.trim` to those records —
 * the same read path, shared. Subscribers whose cursor is older than the tail (replays, consumers
 * that fell far behind) read the feed directly.
 */
export class FeedTail {
  /** The records cover the ids (from, to]: every stored change in that range, ascending. */
  private from = Number.POSITIVE_INFINITY;
  private to = -1;
  private records: ChangeRecord[] = [];
  private catalog: Catalog | null = null;
  private refreshedAt = 0;
  private refreshing: Promise<void> | null = null;

  constructor(
    private readonly workspaceId: string,
    private readonly feed: ChangeFeed,
    private readonly catalogs: CatalogStore,
  ) {}

  /** The newest change id the tail has read up to. */
  get head(): number {
    return this.to;
  }

  /** The catalog of the last read (null before the first): subscribers trim with it. */
  get currentCatalog(): Catalog | null {
    return this.catalog;
  }

  /** Whether a cursor can be served from the tail. */
  covers(after: number): boolean {
    return after >= this.from;
  }

  /**
   * Brings the tail up to `knownHead` (the newest head notified), or re-reads when it has not looked
   * for a while. Concurrent callers share one read.
   */
  async refresh(knownHead: number): Promise<void> {
    if (this.refreshing) return this.refreshing;
    if (this.catalog && knownHead <= this.to && Date.now() - this.refreshedAt < STALE_MS) return;
    this.refreshing = this.readNewer().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async readNewer(): Promise<void> {
    const catalog = await this.catalogs.get(this.workspaceId);
    if (!this.catalog) {
      // A new tail starts at the head: older changes are replays, read from the feed directly.
      this.to = await this.feed.head(this.workspaceId);
      this.from = this.to;
    }
    // The tail's filter is "every type": each subscriber filters and trims for itself.
    const everything = everyChange(catalog);
    for (;;) {
      const { records, head, scannedTo } = await this.feed.readAfter(
        this.workspaceId,
        this.to,
        READ_SIZE,
        everything,
      );
      this.records.push(...records);
      this.to = scannedTo;
      if (scannedTo >= head) break;
    }
    if (this.records.length > TAIL_SIZE) {
      const dropped = this.records.splice(0, this.records.length - TAIL_SIZE);
      this.from = Number(dropped[dropped.length - 1]?.seq ?? this.from);
    }
    this.catalog = catalog;
    this.refreshedAt = Date.now();
  }

  /**
   * Up to `limit` records after `after` matching the filter (its in-memory form: the same
   * predicate the feed runs in SQL), the catalog they were read with, and how far they cover.
   */
  read(
    after: number,
    limit: number,
    filter: ResolvedFilter,
  ): { records: ChangeRecord[]; catalog: Catalog | null; scannedTo: number; head: number } {
    const matched: ChangeRecord[] = [];
    let scannedTo = this.to;
    // Binary search for the first record after the cursor: tails are long, pages are short.
    let low = 0;
    let high = this.records.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (Number(this.records[mid]?.seq) <= after) low = mid + 1;
      else high = mid;
    }
    for (let i = low; i < this.records.length; i++) {
      const record = this.records[i] as ChangeRecord;
      if (filter.matches(record)) {
        matched.push(record);
        if (matched.length === limit) {
          scannedTo = Number(record.seq);
          break;
        }
      }
    }
    return { records: matched, catalog: this.catalog, scannedTo: Math.max(scannedTo, after), head: this.to };
  }
}

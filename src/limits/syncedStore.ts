import { type Db, queryTuples } from "../kernel/index.ts";
import type { PostgresBucketStore } from "./postgresStore.ts";
import { type BucketStore, type GcraStep, gcra, monotonicNow } from "./rateLimit.ts";

/** How often a process adds what it let through to the shared buckets and reads them back. */
export const SYNC_MS = 250;

/**
 * Adds each key's locally taken interval to its shared bucket and reads every local key's shared
 * `tat` back, in one statement: the bucket may go past its burst (other processes took from it
 * meanwhile), which delays the next requests by as much: what was let through early is paid back.
 */
const SYNC = `with clock as (select extract(epoch from clock_timestamp()) * 1000 as now),
input as (select * from unnest($1::text[], $2::float8[]) as i(key, add)),
added as (
  insert into rate_limit_buckets as b (key, tat)
  select i.key, clock.now + i.add from input i, clock where i.add > 0
  on conflict (key) do update set tat = greatest(b.tat, (select now from clock)) + excluded.tat - (select now from clock)
  returning b.key, b.tat
)
select i.key, coalesce(a.tat, r.tat), (select now from clock) from input i
left join added a on a.key = i.key left join rate_limit_buckets r on r.key = i.key`;

interface LocalBucket {
  /** The shared bucket's `tat` as last read, plus what this process took since, in local time. */
  tat: number;
  /** Interval taken locally and not yet added to the shared bucket (ms). */
  pending: number;
}

/**
 * PostgreSQL buckets without a statement per request: a key's first request in this process takes
 * from the shared bucket directly (one UPSERT), later ones from a local copy, and every `SYNC_MS`
 * one statement adds what each key took locally and reads every local key's shared state back. So processes see
 * each other's requests within `SYNC_MS`; the most a bucket can over-admit is what the other
 * processes let through in that window, and it is then paid back (see ADD). bench/limits.ts: a
 * statement per request cost ~20% more server CPU on a list page.
 */
export class SyncedBucketStore implements BucketStore {
  private readonly local = new Map<string, LocalBucket>();
  /** Shared takes not yet returned, by key. */
  private readonly inflight = new Map<string, number>();
  /** The database clock minus this process's monotonic one (the shared `tat`s are in database time). */
  private offset = 0;
  private readonly timer: NodeJS.Timeout;
  private syncing: Promise<void> | null = null;

  constructor(
    private readonly db: Db,
    private readonly shared: PostgresBucketStore,
    private readonly onError: (error: unknown) => void,
  ) {
    this.timer = setInterval(() => void this.sync(), SYNC_MS);
    this.timer.unref();
  }

  take(key: string, intervalMs: number, burstMs: number): GcraStep | Promise<GcraStep> {
    const bucket = this.local.get(key);
    // While a key's shared takes are in flight the local copy does not know them yet: a burst of
    // first requests is counted by the database, one statement each, until they have all returned.
    if (!bucket || this.inflight.has(key)) return this.takeShared(key, intervalMs, burstMs);
    const step = gcra(bucket.tat, monotonicNow(), intervalMs, burstMs);
    if (step.allowed) {
      bucket.tat = step.tat;
      bucket.pending += intervalMs;
    }
    return step;
  }

  private async takeShared(key: string, intervalMs: number, burstMs: number): Promise<GcraStep> {
    let step: GcraStep;
    this.inflight.set(key, (this.inflight.get(key) ?? 0) + 1);
    try {
      step = await this.shared.take(key, intervalMs, burstMs);
    } catch (error) {
      // Fail open: a limiter that cannot reach its buckets must not take the API down with it.
      // The request is counted locally and added to the shared bucket by a later sync.
      this.onError(error);
      const local = gcra(undefined, monotonicNow(), intervalMs, burstMs);
      if (!this.local.has(key)) this.local.set(key, { tat: local.tat, pending: intervalMs });
      return local;
    } finally {
      const left = (this.inflight.get(key) ?? 1) - 1;
      if (left > 0) this.inflight.set(key, left);
      else this.inflight.delete(key);
    }
    const offset = step.now - monotonicNow();
    this.offset = offset;
    const local = { allowed: step.allowed, tat: step.tat - offset, now: step.now - offset };
    // The shared state is fresher than the local copy; what was taken here and not yet added to
    // it (pending) still counts on top.
    const existing = this.local.get(key);
    if (existing) existing.tat = Math.max(existing.tat, local.tat + existing.pending);
    else this.local.set(key, { tat: local.tat, pending: 0 });
    return local;
  }

  /** One statement for every key with local takes; full, idle buckets are forgotten. */
  private sync(): Promise<void> {
    this.syncing ??= this.push()
      .catch(this.onError)
      .finally(() => {
        this.syncing = null;
      });
    return this.syncing;
  }

  private async push(): Promise<void> {
    const now = monotonicNow();
    const sent = new Map<string, number>();
    for (const [key, bucket] of this.local) {
      if (bucket.pending === 0 && bucket.tat <= now) this.local.delete(key);
      else sent.set(key, bucket.pending);
    }
    if (sent.size === 0) return;
    const rows = await queryTuples(
      this.db,
      { text: SYNC, params: [[...sent.keys()], [...sent.values()]] },
      (r) => r,
    );
    for (const [key, tat, dbNow] of rows as [string, unknown, unknown][]) {
      this.offset = Number(dbNow) - monotonicNow();
      const bucket = this.local.get(key);
      if (!bucket) continue;
      bucket.pending -= sent.get(key) ?? 0;
      // The shared state, plus what was taken here while the statement ran.
      if (tat != null) bucket.tat = Number(tat) - this.offset + bucket.pending;
    }
  }

  async sweep(): Promise<void> {
    await this.sync();
    await this.shared.sweep();
  }

  /** Adds what is still pending, and stops syncing. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.sync();
  }
}

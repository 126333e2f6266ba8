import { type Db, queryTuples } from "../kernel/index.ts";
import type { BucketStore, GcraStep } from "./rateLimit.ts";

/**
 * GCRA in one statement: the UPSERT moves `tat` only when the bucket has room (its WHERE), so
 * concurrent requests through any process serialize on the row lock and none is counted twice.
 * The clock is PostgreSQL's, so processes on several machines agree on it. A refused request
 * updates nothing, and the CTE's read of the current row gives its `tat` for Retry-After.
 */
const TAKE = `with clock as (select extract(epoch from clock_timestamp()) * 1000 as now),
taken as (
  insert into rate_limit_buckets as b (key, tat)
  select $1, clock.now + $2 from clock
  on conflict (key) do update set tat = greatest(b.tat, excluded.tat - $2) + $2
    where greatest(b.tat, excluded.tat - $2) + $2 - (excluded.tat - $2) <= $3
  returning b.tat
)
select (select tat from taken), (select tat from rate_limit_buckets where key = $1), (select now from clock)`;

/** Buckets in PostgreSQL: every process sees the same counts. One statement per request. */
export class PostgresBucketStore implements BucketStore {
  constructor(private readonly db: Db) {}

  async take(key: string, intervalMs: number, burstMs: number): Promise<GcraStep> {
    const [row] = await queryTuples(this.db, { text: TAKE, params: [key, intervalMs, burstMs] }, (r) => r);
    const [taken, current, now] = (row ?? []) as [unknown, unknown, unknown];
    if (taken != null) return { allowed: true, tat: Number(taken), now: Number(now) };
    return { allowed: false, tat: Number(current ?? now), now: Number(now) };
  }

  async sweep(): Promise<void> {
    await queryTuples(
      this.db,
      {
        text: "delete from rate_limit_buckets where tat < extract(epoch from clock_timestamp()) * 1000",
        params: [],
      },
      (r) => r,
    );
  }
}

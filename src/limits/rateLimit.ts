/**
 * Token buckets by GCRA (the generic cell rate algorithm): a bucket is one number, its
 * "theoretical arrival time" `tat`. A bucket of `limit` requests refilling over `windowMs` lets a
 * request through when `tat - now <= windowMs - interval` (there is room for one more), and pushes
 * `tat` one `interval` (windowMs / limit) later. One number per key means one atomic UPSERT on
 * PostgreSQL, and the headers fall out of it: `remaining` and `reset` are `tat`'s distance from now.
 */
export interface BucketLimit {
  /** Requests a full bucket holds (the burst), refilled evenly over `windowMs`. */
  limit: number;
  windowMs: number;
}

export interface Decision {
  allowed: boolean;
  limit: number;
  /** Requests left in the bucket after this one. */
  remaining: number;
  /** Seconds until the bucket is full again (RateLimit-Reset). */
  resetSeconds: number;
  /** Seconds until the next request is allowed; 0 when this one was. */
  retryAfterSeconds: number;
}

/** Where buckets live: in this process (PGlite), or in PostgreSQL, shared by every process. */
export interface BucketStore {
  /**
   * Takes one request from `key`'s bucket: the new `tat` when allowed, or `null` and the current
   * `tat` when the bucket is empty. `now` is epoch milliseconds of the store's clock.
   */
  take(key: string, intervalMs: number, burstMs: number): GcraStep | Promise<GcraStep>;
  /** Forgets buckets that are full again (they are the same as no bucket). */
  sweep(): Promise<void>;
}

export interface GcraStep {
  allowed: boolean;
  tat: number;
  now: number;
}

/**
 * Now in epoch milliseconds on a clock that never steps: the process's start plus a monotonic
 * elapsed time. Buckets and login locks measure intervals with it; on the wall clock, NTP stepping
 * it an hour forward and back locked every credential that made a request meanwhile out for an hour.
 */
export function monotonicNow(): number {
  return performance.timeOrigin + performance.now();
}

/** The pure GCRA step, shared by the in-process store and the tests of the SQL one. */
export function gcra(
  previousTat: number | undefined,
  now: number,
  intervalMs: number,
  burstMs: number,
): GcraStep {
  const next = Math.max(previousTat ?? now, now) + intervalMs;
  if (next - now > burstMs) return { allowed: false, tat: previousTat ?? now, now };
  return { allowed: true, tat: next, now };
}

export function decide(step: GcraStep, { limit, windowMs }: BucketLimit): Decision {
  const interval = windowMs / limit;
  const ahead = Math.max(0, step.tat - step.now);
  const remaining = Math.max(0, Math.floor((windowMs - ahead) / interval));
  const retryAfterMs = step.allowed ? 0 : ahead + interval - windowMs;
  return {
    allowed: step.allowed,
    limit,
    remaining,
    resetSeconds: Math.ceil(ahead / 1000),
    retryAfterSeconds: step.allowed ? 0 : Math.max(1, Math.ceil(retryAfterMs / 1000)),
  };
}

export class RateLimiter {
  constructor(private readonly store: BucketStore) {}

  /** Takes one request from `key`'s bucket; synchronous with the in-process store. */
  take(key: string, limit: BucketLimit): Decision | Promise<Decision> {
    const interval = limit.windowMs / limit.limit;
    const step = this.store.take(key, interval, limit.windowMs);
    return step instanceof Promise ? step.then((s) => decide(s, limit)) : decide(step, limit);
  }

  sweep(): Promise<void> {
    return this.store.sweep();
  }
}

/** The IETF draft's headers (draft-ietf-httpapi-ratelimit-headers), plus Retry-After when refused. */
export function rateLimitHeaders(decision: Decision): Record<string, string> {
  const headers: Record<string, string> = {
    "RateLimit-Limit": String(decision.limit),
    "RateLimit-Remaining": String(decision.remaining),
    "RateLimit-Reset": String(decision.resetSeconds),
  };
  if (!decision.allowed) headers["Retry-After"] = String(decision.retryAfterSeconds);
  return headers;
}

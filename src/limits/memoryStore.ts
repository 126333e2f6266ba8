import { type BucketStore, type GcraStep, gcra, monotonicNow } from "./rateLimit.ts";

/** Buckets in this process's memory: for PGlite, which is one process by construction. */
export class MemoryBucketStore implements BucketStore {
  private readonly buckets = new Map<string, number>();

  take(key: string, intervalMs: number, burstMs: number): GcraStep {
    const step = gcra(this.buckets.get(key), monotonicNow(), intervalMs, burstMs);
    if (step.allowed) this.buckets.set(key, step.tat);
    return step;
  }

  async sweep(): Promise<void> {
    const now = monotonicNow();
    for (const [key, tat] of this.buckets) if (tat <= now) this.buckets.delete(key);
  }
}

import type { Plugin } from "graphql-yoga";
import type { Logger } from "pino";
import type { DatabaseHandles, Env } from "../kernel/index.ts";
import { useShapeLimits } from "./armor.ts";
import { LoginThrottle } from "./bruteForce.ts";
import { useCostLimit } from "./costPlugin.ts";
import { MemoryBucketStore } from "./memoryStore.ts";
import { PostgresBucketStore } from "./postgresStore.ts";
import { RateLimiter } from "./rateLimit.ts";
import { useRateLimit } from "./rateLimitPlugin.ts";
import { type LimitSettings, limitSettings } from "./settings.ts";
import { SyncedBucketStore } from "./syncedStore.ts";

/** Query cost caps, rate limits, the login brake and resource caps (README "Limits"). */
export interface Limits {
  settings: LimitSettings;
  rateLimiter: RateLimiter;
  logins: LoginThrottle;
  /** Yoga plugins: shape caps at parse/validate, then rate limit and cost before execution. */
  plugins(): Plugin[];
  /** Forgets full buckets and quiet login counts (run by the maintenance loop). */
  sweep(): Promise<void>;
  /** Adds what this process took to the shared buckets, and stops syncing them. */
  close(): Promise<void>;
}

export function createLimits({ db, listen }: DatabaseHandles, env: Env, logger: Logger): Limits {
  const settings = limitSettings(env);
  // With LISTEN the database is PostgreSQL and may have other processes: buckets live in it.
  const store = listen
    ? new SyncedBucketStore(db, new PostgresBucketStore(db), (error) =>
        logger.warn({ err: error }, "rate-limit sync failed; will retry"),
      )
    : new MemoryBucketStore();
  const rateLimiter = new RateLimiter(store);
  const logins = new LoginThrottle({
    maxFailures: env.PLUGBOARD_LOGIN_MAX_FAILURES,
    lockSeconds: env.PLUGBOARD_LOGIN_LOCK_SECONDS,
    maxLockSeconds: env.PLUGBOARD_LOGIN_MAX_LOCK_SECONDS,
  });
  return {
    settings,
    rateLimiter,
    logins,
    plugins: () => [...useShapeLimits(settings), useRateLimit(rateLimiter, settings), useCostLimit(settings)],
    sweep: async () => {
      logins.sweep();
      await rateLimiter.sweep();
    },
    close: async () => {
      if (store instanceof SyncedBucketStore) await store.close();
    },
  };
}

export type { LoginThrottle } from "./bruteForce.ts";
export { credentialKey } from "./keys.ts";

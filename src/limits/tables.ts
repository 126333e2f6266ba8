import { doublePrecision, pgTable, text } from "drizzle-orm/pg-core";

/**
 * Rate-limit buckets shared by every process on PostgreSQL, one row per credential or address.
 * `tat` is the bucket's "theoretical arrival time" (GCRA) in epoch milliseconds: the bucket is
 * full when `tat <= now`, and each request pushes it one interval later.
 */
export const rateLimitBuckets = pgTable("rate_limit_buckets", {
  key: text("key").primaryKey(),
  tat: doublePrecision("tat").notNull(),
});

-- Unlogged: buckets are cheap to lose in a crash (they refill), and skip the WAL on every request.
CREATE UNLOGGED TABLE "rate_limit_buckets" (
	"key" text PRIMARY KEY NOT NULL,
	"tat" double precision NOT NULL
);

-- Same index, no pending list (drizzle-kit would drop and rebuild it): altered in place, then the
-- list it has is merged into the index.
ALTER INDEX "resources_values_idx" SET (fastupdate = false);--> statement-breakpoint
SELECT gin_clean_pending_list('resources_values_idx');

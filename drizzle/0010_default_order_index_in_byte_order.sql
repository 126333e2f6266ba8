-- Listings in id order sort by "id" collate "C" (src/resources/query.ts, `idOrderColumn`): only this
-- index gives that order, so PostgreSQL can no longer take the primary key for it and filter out
-- other types' rows. Writes to resources wait while it is built (a few seconds per million rows).
DROP INDEX "resources_type_id_idx";--> statement-breakpoint
CREATE INDEX "resources_type_id_idx" ON "resources" USING btree ("workspace_id","type_id","id" collate "C") WHERE "resources"."deleted_at" is null;
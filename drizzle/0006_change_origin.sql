ALTER TABLE "changes" ADD COLUMN "origin" text;--> statement-breakpoint
CREATE INDEX "changes_workspace_time" ON "changes" USING btree ("workspace_id","occurred_at","seq");
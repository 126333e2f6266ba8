DROP INDEX "changes_workspace_seq";--> statement-breakpoint
DROP INDEX "changes_workspace_time";--> statement-breakpoint
DROP INDEX "resources_parent_idx";--> statement-breakpoint
DROP INDEX "resources_assignee_idx";--> statement-breakpoint
CREATE UNIQUE INDEX "changes_workspace_seq" ON "changes" USING btree ("workspace_id","seq") WHERE "changes"."seq" is not null;--> statement-breakpoint
CREATE INDEX "changes_workspace_time" ON "changes" USING btree ("workspace_id","occurred_at","seq") WHERE "changes"."seq" is not null;--> statement-breakpoint
CREATE INDEX "resources_parent_idx" ON "resources" USING btree ("parent_id") WHERE "resources"."parent_id" is not null;--> statement-breakpoint
CREATE INDEX "resources_assignee_idx" ON "resources" USING btree ("assignee_id") WHERE "resources"."assignee_id" is not null;
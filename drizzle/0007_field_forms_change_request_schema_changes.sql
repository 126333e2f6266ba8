CREATE TYPE "public"."schema_change_kind" AS ENUM('TYPE_CREATED', 'TYPE_UPDATED', 'TYPE_DELETED', 'FIELD_CREATED', 'FIELD_UPDATED', 'FIELD_DELETED', 'ACCESS_CHANGED');--> statement-breakpoint
CREATE TABLE "schema_changes" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"seq" bigint NOT NULL,
	"kind" "schema_change_kind" NOT NULL,
	"resource_type_id" text NOT NULL,
	"resource_type_key" text NOT NULL,
	"field_id" text,
	"field_key" text,
	"role" text,
	"access" text,
	"readable_roles" text[] NOT NULL,
	"actor" jsonb NOT NULL,
	"request" jsonb,
	"occurred_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "changes" ADD COLUMN "request" jsonb;--> statement-breakpoint
ALTER TABLE "fields" ADD COLUMN "choices" jsonb;--> statement-breakpoint
ALTER TABLE "fields" ADD COLUMN "default_value" jsonb;--> statement-breakpoint
ALTER TABLE "fields" ADD COLUMN "max_length" integer;--> statement-breakpoint
ALTER TABLE "fields" ADD COLUMN "help_text" text;--> statement-breakpoint
ALTER TABLE "webhooks" ADD COLUMN "include_schema_changes" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "schema_changes" ADD CONSTRAINT "schema_changes_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "schema_changes_workspace_seq" ON "schema_changes" USING btree ("workspace_id","seq");
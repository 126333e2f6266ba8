CREATE TYPE "public"."change_kind" AS ENUM('CREATED', 'UPDATED', 'DELETED', 'RESTORED');--> statement-breakpoint
CREATE TYPE "public"."access" AS ENUM('NONE', 'READ', 'WRITE');--> statement-breakpoint
CREATE TYPE "public"."field_type" AS ENUM('TEXT', 'LONG_TEXT', 'NUMBER', 'INTEGER', 'BOOLEAN', 'DATE', 'DATETIME', 'EMAIL', 'URL', 'PHONE', 'SELECT', 'MULTI_SELECT', 'REFERENCE', 'LINKS', 'MEMBER', 'FILE', 'JSON');--> statement-breakpoint
CREATE TABLE "change_feeds" (
	"workspace_id" text PRIMARY KEY NOT NULL,
	"head" bigint DEFAULT 0 NOT NULL,
	"pruned_through" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "changes" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"xid" "xid8" DEFAULT pg_current_xact_id() NOT NULL,
	"seq" bigint,
	"kind" "change_kind" NOT NULL,
	"resource_type_id" text NOT NULL,
	"resource_type_key" text NOT NULL,
	"resource_id" text NOT NULL,
	"actor" jsonb NOT NULL,
	"fields" jsonb NOT NULL,
	"snapshot" jsonb NOT NULL,
	"version" integer NOT NULL,
	"occurred_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "field_access" (
	"workspace_id" text NOT NULL,
	"field_id" text NOT NULL,
	"role" "role" NOT NULL,
	"access" "access" NOT NULL,
	CONSTRAINT "field_access_field_id_role_pk" PRIMARY KEY("field_id","role")
);
--> statement-breakpoint
CREATE TABLE "fields" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"resource_type_id" text NOT NULL,
	"key" text NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"type" "field_type" NOT NULL,
	"system" boolean DEFAULT false NOT NULL,
	"required" boolean DEFAULT false NOT NULL,
	"unique" boolean DEFAULT false NOT NULL,
	"options" jsonb,
	"reference_type_id" text,
	"position" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "resource_types" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"key" text NOT NULL,
	"name" text NOT NULL,
	"plural_name" text NOT NULL,
	"description" text,
	"system" boolean DEFAULT false NOT NULL,
	"parent_type_id" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "schema_versions" (
	"workspace_id" text PRIMARY KEY NOT NULL,
	"version" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "type_access" (
	"workspace_id" text NOT NULL,
	"resource_type_id" text NOT NULL,
	"role" "role" NOT NULL,
	"access" "access" NOT NULL,
	CONSTRAINT "type_access_resource_type_id_role_pk" PRIMARY KEY("resource_type_id","role")
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"workspace_id" text NOT NULL,
	"key" text NOT NULL,
	"operation" text NOT NULL,
	"request_hash" text NOT NULL,
	"result" jsonb NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_workspace_id_key_pk" PRIMARY KEY("workspace_id","key")
);
--> statement-breakpoint
CREATE TABLE "resources" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"type_id" text NOT NULL,
	"name" text,
	"parent_id" text,
	"assignee_id" text,
	"created_by_id" text,
	"values" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp (3) with time zone
);
--> statement-breakpoint
ALTER TABLE "change_feeds" ADD CONSTRAINT "change_feeds_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "changes" ADD CONSTRAINT "changes_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "field_access" ADD CONSTRAINT "field_access_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "field_access" ADD CONSTRAINT "field_access_field_id_fields_id_fk" FOREIGN KEY ("field_id") REFERENCES "public"."fields"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fields" ADD CONSTRAINT "fields_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fields" ADD CONSTRAINT "fields_resource_type_id_resource_types_id_fk" FOREIGN KEY ("resource_type_id") REFERENCES "public"."resource_types"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "resource_types" ADD CONSTRAINT "resource_types_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "schema_versions" ADD CONSTRAINT "schema_versions_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "type_access" ADD CONSTRAINT "type_access_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "type_access" ADD CONSTRAINT "type_access_resource_type_id_resource_types_id_fk" FOREIGN KEY ("resource_type_id") REFERENCES "public"."resource_types"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "idempotency_keys" ADD CONSTRAINT "idempotency_keys_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "resources" ADD CONSTRAINT "resources_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "changes_workspace_seq" ON "changes" USING btree ("workspace_id","seq");--> statement-breakpoint
CREATE INDEX "changes_unsequenced" ON "changes" USING btree ("workspace_id","xid","id") WHERE "changes"."seq" is null;--> statement-breakpoint
CREATE INDEX "changes_occurred_idx" ON "changes" USING btree ("occurred_at");--> statement-breakpoint
CREATE UNIQUE INDEX "fields_type_key" ON "fields" USING btree ("resource_type_id","key");--> statement-breakpoint
CREATE INDEX "fields_workspace_idx" ON "fields" USING btree ("workspace_id");--> statement-breakpoint
CREATE UNIQUE INDEX "resource_types_workspace_key" ON "resource_types" USING btree ("workspace_id","key");--> statement-breakpoint
CREATE INDEX "idempotency_keys_created_idx" ON "idempotency_keys" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "resources_type_id_idx" ON "resources" USING btree ("workspace_id","type_id","id") WHERE "resources"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "resources_type_name_idx" ON "resources" USING btree ("workspace_id","type_id","name","id") WHERE "resources"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "resources_type_created_idx" ON "resources" USING btree ("workspace_id","type_id","created_at","id") WHERE "resources"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "resources_type_updated_idx" ON "resources" USING btree ("workspace_id","type_id","updated_at","id") WHERE "resources"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "resources_parent_idx" ON "resources" USING btree ("parent_id");--> statement-breakpoint
CREATE INDEX "resources_assignee_idx" ON "resources" USING btree ("assignee_id");--> statement-breakpoint
CREATE INDEX "resources_values_idx" ON "resources" USING gin ("values" jsonb_path_ops);
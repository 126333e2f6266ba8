ALTER TABLE "fields" ADD COLUMN "choices" jsonb;--> statement-breakpoint
ALTER TABLE "fields" ADD COLUMN "default_value" jsonb;--> statement-breakpoint
ALTER TABLE "fields" ADD COLUMN "max_length" integer;--> statement-breakpoint
ALTER TABLE "fields" ADD COLUMN "help_text" text;
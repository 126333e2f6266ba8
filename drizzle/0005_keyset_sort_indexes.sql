DROP INDEX "resources_type_name_idx";--> statement-breakpoint
CREATE INDEX "resources_type_name_sort_idx" ON "resources" USING btree ("workspace_id","type_id",("name" is null),coalesce("name", ''),"id") WHERE "resources"."deleted_at" is null;--> statement-breakpoint
-- Custom fields' sort indexes (made at run time, src/metadata/fieldIndexes.ts) take the same
-- nullable shape: (is null, coalesce(value, placeholder), id). Only those that exist are rebuilt.
DO $$
DECLARE f record;
DECLARE v text;
BEGIN
  FOR f IN SELECT "id", "type", "resource_type_id" FROM "fields"
    WHERE "type" IN ('NUMBER', 'INTEGER', 'DATE', 'DATETIME') AND "id" ~ '^[a-z]{2,4}_[0-9a-z]{1,40}$'
      AND EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'resources_sort_' || "fields"."id")
  LOOP
    v := format('("values" ->> %L)', f."id");
    IF f."type" IN ('NUMBER', 'INTEGER') THEN
      v := format('((%s)::numeric)', v);
    END IF;
    EXECUTE format('DROP INDEX IF EXISTS %I', 'resources_sort_' || f."id");
    EXECUTE format(
      'CREATE INDEX %I ON "resources" ("workspace_id", (%s is null), (coalesce(%s, %s)), "id") WHERE "type_id" = %L and "deleted_at" is null',
      'resources_sort_' || f."id", v, v,
      CASE WHEN f."type" IN ('NUMBER', 'INTEGER') THEN '0' ELSE '''''' END,
      f."resource_type_id");
  END LOOP;
END $$;
--> statement-breakpoint
-- Same index, no pending list (drizzle-kit would drop and rebuild it): altered in place, then the
-- list it has is merged into the index.
ALTER INDEX "resources_values_idx" SET (fastupdate = false);--> statement-breakpoint
SELECT gin_clean_pending_list('resources_values_idx');

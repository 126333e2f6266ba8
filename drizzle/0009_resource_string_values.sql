CREATE TABLE "resource_string_values" (
	"workspace_id" text NOT NULL,
	"field_id" text NOT NULL,
	"value" text NOT NULL,
	"resource_id" text NOT NULL,
	CONSTRAINT "resource_string_values_workspace_id_field_id_value_resource_id_pk" PRIMARY KEY("workspace_id","field_id","value","resource_id")
);
--> statement-breakpoint
-- Kept in the statement that writes `resources`, whichever statement that is (src/ledger/tables.ts
-- says what the table is for). Statement triggers with transition tables: a bulk insert (a seed,
-- an import) maintains it in one INSERT … SELECT, not one call per row. Only string values; the
-- first 256 characters (VALUE_KEY_LENGTH).
CREATE FUNCTION plugboard_string_values_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO resource_string_values (workspace_id, field_id, value, resource_id)
    SELECT n.workspace_id, e.key, left(e.value #>> '{}', 256), n.id
    FROM new_rows n, jsonb_each(n."values") e
    WHERE jsonb_typeof(e.value) = 'string'
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
--> statement-breakpoint
-- An update removes the strings a row no longer holds, then adds the ones it newly holds (a value
-- changed past its first 256 characters is removed and added back).
CREATE FUNCTION plugboard_string_values_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM resource_string_values l
    USING old_rows o JOIN new_rows n ON n.id = o.id, jsonb_each(o."values") e
    WHERE o."values" IS DISTINCT FROM n."values" AND jsonb_typeof(e.value) = 'string'
      AND (n."values" -> e.key) IS DISTINCT FROM e.value
      AND l.workspace_id = o.workspace_id AND l.field_id = e.key
      AND l.value = left(e.value #>> '{}', 256) AND l.resource_id = o.id;
  INSERT INTO resource_string_values (workspace_id, field_id, value, resource_id)
    SELECT n.workspace_id, e.key, left(e.value #>> '{}', 256), n.id
    FROM old_rows o JOIN new_rows n ON n.id = o.id, jsonb_each(n."values") e
    WHERE o."values" IS DISTINCT FROM n."values" AND jsonb_typeof(e.value) = 'string'
      AND (o."values" -> e.key) IS DISTINCT FROM e.value
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION plugboard_string_values_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM resource_string_values l
    USING old_rows o, jsonb_each(o."values") e
    WHERE jsonb_typeof(e.value) = 'string'
      AND l.workspace_id = o.workspace_id AND l.field_id = e.key
      AND l.value = left(e.value #>> '{}', 256) AND l.resource_id = o.id;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER resources_string_values_added AFTER INSERT ON resources
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION plugboard_string_values_added();
--> statement-breakpoint
CREATE TRIGGER resources_string_values_changed AFTER UPDATE ON resources
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION plugboard_string_values_changed();
--> statement-breakpoint
CREATE TRIGGER resources_string_values_removed AFTER DELETE ON resources
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION plugboard_string_values_removed();
--> statement-breakpoint
INSERT INTO resource_string_values (workspace_id, field_id, value, resource_id)
  SELECT r.workspace_id, e.key, left(e.value #>> '{}', 256), r.id
  FROM resources r, jsonb_each(r."values") e
  WHERE jsonb_typeof(e.value) = 'string'
ON CONFLICT DO NOTHING;

-- The update trigger of `resource_string_values` (0009) ran for every UPDATE of `resources` with
-- both transition tables captured: a soft delete or a restore, which never changes `values`, paid
-- for copying its row twice and for two empty statements (pgbench of the soft delete: 7,100-8,300
-- a second, 11,200-11,700 with this trigger). A trigger with transition tables cannot name its
-- columns (UPDATE OF), so it runs per row now, and only for a row whose `values` changed. A bulk
-- update of `values` (a field removed from a type) takes as long either way (100,000 rows: ~2 s).
DROP TRIGGER resources_string_values_changed ON resources;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION plugboard_string_values_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- The strings the row no longer holds (a value changed past its first 256 characters is removed
  -- and added back).
  DELETE FROM resource_string_values l
    USING jsonb_each(OLD."values") e
    WHERE jsonb_typeof(e.value) = 'string' AND (NEW."values" -> e.key) IS DISTINCT FROM e.value
      AND l.workspace_id = OLD.workspace_id AND l.field_id = e.key
      AND l.value = left(e.value #>> '{}', 256) AND l.resource_id = OLD.id;
  INSERT INTO resource_string_values (workspace_id, field_id, value, resource_id)
    SELECT NEW.workspace_id, e.key, left(e.value #>> '{}', 256), NEW.id
    FROM jsonb_each(NEW."values") e
    WHERE jsonb_typeof(e.value) = 'string' AND (OLD."values" -> e.key) IS DISTINCT FROM e.value
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER resources_string_values_changed AFTER UPDATE ON resources
  FOR EACH ROW WHEN (OLD."values" IS DISTINCT FROM NEW."values")
  EXECUTE FUNCTION plugboard_string_values_changed();

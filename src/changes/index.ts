/** changes' public module: what other domains use of the schema change log. */

export {
  canSeeSchemaChange,
  recordSchemaChanges,
  SchemaChangeFeed,
  type SchemaChangeView,
} from "./schemaChanges.ts";

/**
 * changes' public module: the change filter other domains (subscriptions, webhooks) resolve and
 * run, and the schema change log. New code imports it rather than changes' files
 * (.dependency-cruiser.cjs).
 */

export type { ChangeFeed, ChangeRecord } from "./feed.ts";
export {
  type ActorSet,
  type ChangeFilter,
  type ChangeTransition,
  everyChange,
  MATCH_NOTHING,
  mergeActorSets,
  type ResolvedFilter,
  selfExclusion,
} from "./filter.ts";
export { isValidOrigin } from "./origin.ts";
export {
  canSeeSchemaChange,
  recordSchemaChanges,
  SchemaChangeFeed,
  type SchemaChangeView,
} from "./schemaChanges.ts";

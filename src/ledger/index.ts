/**
 * The ledger's public module. The ledger is the only writer of `resources` and `changes` rows (the
 * write path, docs/architecture.md invariant 1), and what reads them: the row and value codecs,
 * the change diff, the sequencer, the feed with its filters, retention and the schema change log.
 * The `resources` table is exported for building reads; writes go through `changeCapturingWrites`.
 */

export {
  ChangeFeed,
  type ChangePage,
  type ChangeRecord,
  type ChangeView,
  parseCursor,
  pruneChanges,
} from "./feed.ts";
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
export {
  checkOperator,
  compileFilter,
  filterOperand,
  MAX_IN,
  matchToFilter,
  type ResourceFilter,
  resolveFilterField,
  type Sortable,
  type StringEquality,
  sortColumns,
  stringEquality,
  walkFilter,
} from "./filters.ts";
export { isValidOrigin } from "./origin.ts";
export { purgeDeletedResources } from "./retention.ts";
export {
  ALL_COLUMNS,
  columnOf,
  isoText,
  keysOfAll,
  type ListedRow,
  linkedIds,
  linkedRowsOf,
  linkIds,
  listRows,
  type OptionalColumn,
  type RenderedPage,
  type RenderedSelect,
  readRenderedPage,
  renderedPageStatement,
  renderedSelect,
  resourcesByIds,
  selectPageWithLinked,
  selectResources,
  stringValueSource,
  type ValueKeys,
} from "./rows.ts";
export {
  canSeeSchemaChange,
  recordSchemaChanges,
  SchemaChangeFeed,
  type SchemaChangePage,
  type SchemaChangeView,
} from "./schemaChanges.ts";
export { seedChangeFeed } from "./seed.ts";
export { CHANGES_CHANNEL, Sequencer } from "./sequencer.ts";
export {
  type ResourceRow,
  resources,
  type StoredActor,
  type StoredFieldChange,
  type StoredRequest,
} from "./tables.ts";
export { deleteTypeRows, dropFieldValues } from "./typeRows.ts";
export {
  assertRequired,
  columnProperty,
  fieldColumn,
  fieldValue,
  type PreparedValues,
  prepareValues,
  type References,
  type ResourceState,
  visibleValues,
  withDefaults,
  writableState,
} from "./values.ts";
export { type CheckedLinks, changeCapturingWrites, type WriteOp, type WritePath } from "./writePath.ts";

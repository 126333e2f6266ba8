/**
 * resources' public module: what other domains use of resources — the `ResourceFilter` language,
 * which change filters evaluate on snapshots. New code imports it rather than resources' files
 * (.dependency-cruiser.cjs).
 */

export {
  checkOperator,
  filterOperand,
  MAX_IN,
  type ResourceFilter,
  resolveFilterField,
  type Sortable,
  walkFilter,
} from "../ledger/filters.ts";

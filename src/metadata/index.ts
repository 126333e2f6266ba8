/**
 * metadata's public module: what other domains use of the catalog (types, fields, their value
 * rules and form settings). New code imports it rather than metadata's files (.dependency-cruiser.cjs).
 */

export type { Catalog, CatalogStore, FieldDef, TypeDef } from "./catalog.ts";
export { sqlIdLiteral } from "./fieldIndexes.ts";
export { coerceValue, type FilterOperator, fieldTypes, InvalidValue } from "./fieldTypes.ts";
export { writeProblem } from "./formSettings.ts";
export {
  canReadField,
  canReadType,
  canWriteField,
  readableField,
  readableFields,
  readableTypes,
  visibleType,
} from "./policy.ts";
export { type SchemaEvent, schemaChangeKinds } from "./schemaEvents.ts";
export type { SchemaChangeKind } from "./tables.ts";

/**
 * metadata's public module: the catalog (types, fields, their value rules and form settings) and
 * the one access policy over it. Other folders import it rather than metadata's files
 * (.dependency-cruiser.cjs).
 */

// Its GraphQL types and fields register with the kernel's builder when this module loads.
import "./schema.ts";

export { type Catalog, CatalogStore, type FieldDef, type TypeDef } from "./catalog.ts";
export { nullableSortColumns, sqlIdLiteral, valueExpression } from "./fieldIndexes.ts";
export {
  coerceValue,
  type FilterOperator,
  fieldTypes,
  InvalidValue,
  isSortable,
  MAX_TEXT,
  normalizeDateTime,
} from "./fieldTypes.ts";
export { writeProblem } from "./formSettings.ts";
export {
  assertCanWriteType,
  canReadField,
  canReadResource,
  canReadType,
  canWriteField,
  childTypes,
  policyKey,
  readableField,
  readableFields,
  readableResourcesSql,
  readableTypes,
  visibleField,
  visibleType,
  writableFields,
} from "./policy.ts";
export { ResourceTypeRef, viewType } from "./schema.ts";
export { type SchemaEvent, schemaChangeKinds } from "./schemaEvents.ts";
export { seedWorkspaceMetadata } from "./seed.ts";
export { MetadataService } from "./service.ts";
export type { SystemColumn } from "./systemFields.ts";
export type { SchemaChangeKind } from "./tables.ts";

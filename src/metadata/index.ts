/**
 * metadata's public module: what other domains use of the catalog (types, fields and their value
 * rules). New code imports it rather than metadata's files (.dependency-cruiser.cjs).
 */

export type { Catalog, FieldDef, TypeDef } from "./catalog.ts";
export { coerceValue, type FilterOperator, fieldTypes, InvalidValue } from "./fieldTypes.ts";

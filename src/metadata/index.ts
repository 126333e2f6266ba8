/** metadata's public module: what other domains use of field settings. */

export type { Catalog, CatalogStore } from "./catalog.ts";
export { writeProblem } from "./formSettings.ts";
export type { SchemaEvent } from "./schemaEvents.ts";

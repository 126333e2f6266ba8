/**
 * changes' public module: the change feed's GraphQL surface (`changes`, `schemaChanges`, the
 * Change type and change filter input). The feed itself is the ledger's (src/ledger/index.ts).
 */

// Its GraphQL types and fields register with the kernel's builder when this module loads.
import "./schema.ts";
import "./schemaChangesSchema.ts";

export { ChangeFilterInput, ChangeKindEnum, ChangeRef, toChangeFilter } from "./schema.ts";

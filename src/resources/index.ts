/**
 * resources' public module: the resource API (service, GraphQL types and mutations) and the
 * idempotency keys of its mutations. Rows, values and the filter language are the ledger's
 * (src/ledger/index.ts).
 */

// Its GraphQL types and fields register with the kernel's builder when this module loads.
import "./schema.ts";
import "./mutations.ts";

export {
  claimRequestKey,
  pruneIdempotencyKeys,
  releaseRequestKey,
  storeRequestResponse,
} from "./idempotency.ts";
export type { FileReferenceCheck } from "./references.ts";
export { type ReadShape, readShape, renderRead } from "./renderedReads.ts";
export {
  ResourceFilterInput,
  ResourceRef,
  type ResourceView,
  SortDirection,
  viewResource,
} from "./schema.ts";
export { ResourceService } from "./service.ts";

/** files' public module: uploads, downloads, the file check of FILE values and the orphan purge. */

// Its GraphQL types and fields register with the kernel's builder when this module loads.
import "./schema.ts";

export { checkFileReferences } from "./access.ts";
export { purgeOrphanFiles } from "./retention.ts";
export { handleFiles } from "./routes.ts";
export { FileService } from "./service.ts";

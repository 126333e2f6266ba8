/** webhooks' public module: webhooks, their delivery worker and the target address checks. */

// Its GraphQL types and fields register with the kernel's builder when this module loads.
import "./schema.ts";
import "./mutations.ts";

export { deliveryBacklog } from "./queue.ts";
export { recordSchemaChangesAndDeliveries } from "./schemaChanges.ts";
export { disableCreatorWebhooks, WebhookService } from "./service.ts";
export { checkTarget, hostOf, pinnedLookup, refusedAddress } from "./targets.ts";
export { WebhookWorker } from "./worker.ts";

/** subscriptions' public module: GraphQL subscriptions over the change feed. */

// Its GraphQL types and fields register with the kernel's builder when this module loads.
import "./schema.ts";

export type { CredentialHolder } from "./credentials.ts";
export { SubscriptionService } from "./service.ts";

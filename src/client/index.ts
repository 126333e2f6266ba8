/**
 * `plugboard/client`: the typed client for connector code. Depends only on graphql, graphql-ws and
 * @graphql-typed-document-node/core (and `ws` on Node 20 for subscriptions); never on server code.
 */
export type { OAuthClientCredentials } from "./auth.ts";
export type { Change, ChangeEntry, ChangeIterator, ChangesOptions } from "./changes.ts";
export { type ClientOptions, createClient, type PlugboardClient } from "./client.ts";
export * from "./errors.ts";
export type { DownloadOptions, UploadOptions } from "./files.ts";
export * from "./generated.ts";
export type { StreamedChange, SubscribeOptions, WebSocketImpl } from "./subscribe.ts";
export type { RetryOptions } from "./transport.ts";
export {
  type VerifyOptions,
  verifyWebhook,
  type WebhookChange,
  type WebhookEvent,
  type WebhookHeaders,
} from "./webhooks.ts";

import { type ClientOptions, createClient } from "./client.ts";

/** The first name of `createClient`, kept for existing callers. */
export const createPlugboardClient = (options: ClientOptions) => createClient(options);
/** @deprecated use ClientOptions */
export type PlugboardClientOptions = ClientOptions;

import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { clientCredentials, type OAuthClientCredentials, staticToken } from "./auth.ts";
import { type ChangeIterator, type ChangesOptions, iterateChanges } from "./changes.ts";
import { type DownloadOptions, downloadFile, type UploadOptions, uploadFile } from "./files.ts";
import * as ops from "./generated.ts";
import { type SubscribeOptions, subscribeChanges, type WebSocketImpl } from "./subscribe.ts";
import { execute, type RetryOptions, type Transport } from "./transport.ts";

export interface ClientOptions {
  /** The GraphQL endpoint, e.g. https://plugboard.example.com/graphql */
  url: string;
  /** An API key (`pbk_…`) or an OAuth access token, sent as `Authorization: Bearer`. */
  token?: string;
  /** Or: OAuth client credentials; tokens are fetched, cached and renewed before they expire. */
  oauth?: OAuthClientCredentials;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
  /** Retries of reads and idempotent writes; `{ retries: 0 }` turns them off. */
  retry?: RetryOptions;
  /** For `subscribe` on Node 20, which has no global WebSocket; default: the `ws` package if installed. */
  webSocketImpl?: WebSocketImpl;
  /** Default: `url` with ws(s):. */
  wsUrl?: string;
  /** Sent with every HTTP request. */
  headers?: Record<string, string>;
}

type Variables<TVariables> = TVariables extends Record<string, never> ? [TVariables?] : [TVariables];

/** A fresh idempotency key, so the write may be retried safely (the server answers a repeat with the first result). */
const withKey = <T extends { idempotencyKey?: string | null }>(input: T): T => ({
  ...input,
  idempotencyKey: input.idempotencyKey ?? globalThis.crypto.randomUUID(),
});

/**
 * The Plugboard client. Every method is typed from the schema; failures throw `PlugboardError`
 * subclasses (see errors.ts). Reads, and writes that carry an idempotency key (create, copy and
 * upsert get one automatically), are retried on network errors, 429 and 503.
 */
export function createClient(options: ClientOptions) {
  if (options.token && options.oauth) throw new TypeError("Pass either `token` or `oauth`, not both.");
  const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  const t: Transport = {
    url: options.url,
    fetch: fetchFn,
    tokens: options.oauth ? clientCredentials(options.oauth, fetchFn) : staticToken(options.token),
    retry: { retries: 3, baseDelayMs: 300, maxDelayMs: 30_000, ...options.retry },
    headers: options.headers ?? {},
  };
  const wsUrl = options.wsUrl ?? options.url.replace(/^http/, "ws");
  // The REST file routes sit next to the GraphQL endpoint: https://host/graphql → https://host/files/
  const filesUrl = new URL("files/", new URL(".", options.url.replace(/\/graphql\/?$/, "/"))).toString();

  const request = <TResult, TVariables>(
    document: TypedDocumentNode<TResult, TVariables>,
    ...[variables]: Variables<TVariables>
  ): Promise<TResult> => execute(t, document, variables);

  return {
    /** Any operation, typed by its document: `request(ResourcesDocument, { type: "contact" })`. */
    request,

    // Who am I, and what is there (auth tests, dropdowns, dynamic fields)
    viewer: async () => (await request(ops.ViewerDocument)).viewer,
    resourceTypes: async () => (await request(ops.ResourceTypesDocument)).resourceTypes,
    /** null for a type that does not exist or the viewer cannot read. */
    resourceType: async (key: string) => (await request(ops.ResourceTypeDocument, { key })).resourceType,
    /** The fields of a type the viewer can read, with `required`, `editable` and SELECT `options`. */
    fields: async (resourceType: string) =>
      (await request(ops.ResourceTypeDocument, { key: resourceType })).resourceType?.fields ?? [],
    createField: async (input: ops.CreateFieldInput) =>
      (await request(ops.CreateFieldDocument, { input })).createField.field,

    // Resources
    resources: async (variables: ops.ResourcesQueryVariables) =>
      (await request(ops.ResourcesDocument, variables)).resources,
    /** Every resource matching, page after page. */
    async *allResources(variables: Omit<ops.ResourcesQueryVariables, "after">) {
      let after: string | null | undefined;
      do {
        const page = (await request(ops.ResourcesDocument, { ...variables, after })).resources;
        yield* page.nodes;
        after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
      } while (after);
    },
    /** null when it does not exist or the viewer cannot read it. */
    resource: async (id: string) => (await request(ops.ResourceDocument, { id })).resource,
    createResource: async (input: ops.CreateResourceInput) =>
      (await request(ops.CreateResourceDocument, { input: withKey(input) })).createResource.resource,
    updateResource: async (input: ops.UpdateResourceInput) =>
      (await request(ops.UpdateResourceDocument, { input })).updateResource.resource,
    /** Finds by `matchOn` and updates, or creates: `{ created, resource }`. */
    upsertResource: async (input: ops.UpsertResourceInput) =>
      (await request(ops.UpsertResourceDocument, { input: withKey(input) })).upsertResource,
    deleteResource: async (input: ops.DeleteResourceInput) =>
      (await request(ops.DeleteResourceDocument, { input })).deleteResource.deletedId,
    restoreResource: async (input: ops.RestoreResourceInput) =>
      (await request(ops.RestoreResourceDocument, { input })).restoreResource.resource,
    copyResource: async (input: ops.CopyResourceInput) =>
      (await request(ops.CopyResourceDocument, { input: withKey(input) })).copyResource.resource,
    linkResources: async (input: ops.LinkResourcesInput) =>
      (await request(ops.LinkResourcesDocument, { input })).linkResources.resource,
    unlinkResources: async (input: ops.UnlinkResourcesInput) =>
      (await request(ops.UnlinkResourcesDocument, { input })).unlinkResources.resource,
    assignResource: async (input: ops.AssignResourceInput) =>
      (await request(ops.AssignResourceDocument, { input })).assignResource.resource,
    moveResource: async (input: ops.MoveResourceInput) =>
      (await request(ops.MoveResourceDocument, { input })).moveResource.resource,

    // Changes
    /** One page of the feed, as the `changes` query returns it (with `headCursor`). */
    changesPage: async (variables: ops.ChangesQueryVariables = {}) =>
      (await request(ops.ChangesDocument, variables)).changes,
    /** The feed as an async iterator from a cursor; see ChangesOptions. */
    changes: (changesOptions?: ChangesOptions): ChangeIterator => iterateChanges(t, changesOptions),
    /** Changes pushed over graphql-ws, resumed from the last one after a disconnect. */
    subscribe: (subscribeOptions?: SubscribeOptions) =>
      subscribeChanges(t, wsUrl, options.webSocketImpl, subscribeOptions),

    // Webhooks
    webhooks: async () => (await request(ops.WebhooksDocument)).webhooks,
    webhook: async (variables: ops.WebhookQueryVariables) =>
      (await request(ops.WebhookDocument, variables)).webhook,
    /** `{ webhook, secret }`: store the secret for verifyWebhook; it is shown only here. */
    createWebhook: async (input: ops.CreateWebhookInput) =>
      (await request(ops.CreateWebhookDocument, { input })).createWebhook,
    updateWebhook: async (input: ops.UpdateWebhookInput) =>
      (await request(ops.UpdateWebhookDocument, { input })).updateWebhook.webhook,
    deleteWebhook: async (input: ops.DeleteWebhookInput) =>
      (await request(ops.DeleteWebhookDocument, { input })).deleteWebhook.deletedId,
    testWebhook: async (input: ops.TestWebhookInput) =>
      (await request(ops.TestWebhookDocument, { input })).testWebhook.delivery,

    // Files
    uploadFile: (file: Blob, uploadOptions?: UploadOptions) => uploadFile(t, file, uploadOptions),
    downloadFile: (id: string, downloadOptions?: DownloadOptions) =>
      downloadFile(t, filesUrl, id, downloadOptions),
    file: async (id: string, expiresIn?: number) =>
      (await request(ops.FileInfoDocument, { id, expiresIn })).file,
  };
}

export type PlugboardClient = ReturnType<typeof createClient>;

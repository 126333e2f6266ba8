import { gqlOk } from "../helpers/graphql.ts";

/** The GraphQL operations the webhook tests drive, as a connector would send them. */
export const CREATE_WEBHOOK = `mutation($input: CreateWebhookInput!) {
  createWebhook(input: $input) { webhook { id url status filter { types kinds fields resourceIds } } secret } }`;
export const DELIVERIES = `query($id: ID!, $status: DeliveryStatus) { webhook(id: $id) {
  id status disabledReason consecutiveFailures lastDeliveryAt
  deliveries(first: 100, status: $status) { nodes { id changeId eventType status nextAttemptAt lastAttemptAt
    attempts { attempt at responseStatus durationMs error responseBody } } } } }`;
export const CREATE_RESOURCE = `mutation($input: CreateResourceInput!) { createResource(input: $input) { resource { id } } }`;
export const UPDATE_RESOURCE = `mutation($input: UpdateResourceInput!) { updateResource(input: $input) { resource { id version } } }`;

export interface DeliveryView {
  id: string;
  changeId: string | null;
  eventType: string;
  status: string;
  nextAttemptAt: string | null;
  attempts: {
    attempt: number;
    responseStatus: number | null;
    error: string | null;
    responseBody: string | null;
    durationMs: number;
  }[];
}
export interface WebhookView {
  id: string;
  status: string;
  disabledReason: string | null;
  consecutiveFailures: number;
  lastDeliveryAt: string | null;
  deliveries: { nodes: DeliveryView[] };
}

export async function createWebhook(
  graphqlUrl: string,
  token: string,
  input: Record<string, unknown>,
): Promise<{ id: string; secret: string }> {
  const data = await gqlOk<{ createWebhook: { webhook: { id: string }; secret: string } }>(
    graphqlUrl,
    CREATE_WEBHOOK,
    { input },
    { token },
  );
  return { id: data.createWebhook.webhook.id, secret: data.createWebhook.secret };
}

export async function createContact(graphqlUrl: string, token: string, values: Record<string, unknown>) {
  const data = await gqlOk<{ createResource: { resource: { id: string } } }>(
    graphqlUrl,
    CREATE_RESOURCE,
    { input: { type: "contact", values } },
    { token },
  );
  return data.createResource.resource.id;
}

export async function webhookView(graphqlUrl: string, token: string, id: string): Promise<WebhookView> {
  const data = await gqlOk<{ webhook: WebhookView }>(graphqlUrl, DELIVERIES, { id }, { token });
  return data.webhook;
}

/** Polls until `check` passes (webhook state is eventually consistent with the receiver). */
export async function eventually<T>(
  read: () => Promise<T>,
  check: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

import {
  type ChangeFilter,
  NotFoundError,
  type PlugboardClient,
  verifyWebhook,
  type WebhookHeaders,
} from "plugboard/client";
import { type ChangeRecord, changeRecord } from "./output.ts";

/**
 * What the platform stores while the trigger is on (Zapier's "bundle.subscribeData", n8n's webhook
 * static data): the webhook's id to delete it later and the secret to verify deliveries.
 */
export interface HookSubscription {
  webhookId: string;
  secret: string;
}

/** Turning the trigger on: a webhook pointing at the platform's URL for this trigger. */
export async function subscribe(
  client: PlugboardClient,
  targetUrl: string,
  filter?: ChangeFilter,
): Promise<HookSubscription> {
  const { webhook, secret } = await client.createWebhook({
    url: targetUrl,
    filter,
    description: "Example connector trigger",
  });
  return { webhookId: webhook.id, secret };
}

/** Turning it off. A webhook already deleted (by hand, or by a previous attempt) is fine. */
export async function unsubscribe(client: PlugboardClient, subscription: HookSubscription): Promise<void> {
  try {
    await client.deleteWebhook({ id: subscription.webhookId });
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
}

/**
 * One delivery. Verifies the signature (throws WebhookVerificationError: answer 401, act on
 * nothing) and returns the change as a record; null for the ping `testWebhook` sends.
 */
export function perform(
  subscription: HookSubscription,
  rawBody: string | Uint8Array,
  headers: WebhookHeaders,
): { deliveryId: string; record: ChangeRecord | null } {
  const event = verifyWebhook(subscription.secret, rawBody, headers);
  return { deliveryId: event.id, record: event.type === "ping" ? null : changeRecord(event.data) };
}

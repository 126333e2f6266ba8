import type { SendResult, WebhookSender } from "./send.ts";
import { signatureHeader } from "./signing.ts";
import type { WebhookRow } from "./tables.ts";

export type SigningWebhook = Pick<
  WebhookRow,
  "id" | "url" | "secret" | "previousSecret" | "previousSecretExpiresAt"
>;

/**
 * One signed POST of a delivery (Standard Webhooks): the body every receiver sees —
 * `{ type, timestamp, webhookId, data }`, in that order — signed with the current secret and, during
 * a rotation's overlap, the previous one too, so receivers holding either verify.
 */
export async function postDelivery(
  sender: WebhookSender,
  webhook: SigningWebhook,
  delivery: { id: string; eventType: string },
  data: Record<string, unknown>,
  at: Date,
): Promise<SendResult> {
  const body = JSON.stringify({
    type: delivery.eventType,
    timestamp: at.toISOString(),
    webhookId: webhook.id,
    data,
  });
  const timestamp = Math.floor(at.getTime() / 1000);
  const secrets = [webhook.secret];
  if (webhook.previousSecret && webhook.previousSecretExpiresAt && webhook.previousSecretExpiresAt > at) {
    secrets.push(webhook.previousSecret);
  }
  return sender.send(
    webhook.url,
    {
      "webhook-id": delivery.id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": signatureHeader(secrets, delivery.id, timestamp, body),
    },
    body,
  );
}

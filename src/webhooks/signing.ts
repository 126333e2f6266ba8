import { createHmac, randomBytes } from "node:crypto";

const PREFIX = "whsec_";

/** A new Standard Webhooks secret: `whsec_` + base64 of 32 random bytes (the HMAC key). */
export function newSecret(): string {
  return PREFIX + randomBytes(32).toString("base64");
}

/**
 * The `webhook-signature` header value per the Standard Webhooks spec: `v1,<base64 HMAC-SHA256 of
 * "id.timestamp.body">` for each secret, space-separated, so receivers holding either secret verify
 * during a rotation's overlap.
 */
export function signatureHeader(secrets: string[], id: string, timestamp: number, body: string): string {
  const content = `${id}.${timestamp}.${body}`;
  return secrets
    .map((secret) => {
      const key = Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, "base64");
      return `v1,${createHmac("sha256", key).update(content).digest("base64")}`;
    })
    .join(" ");
}

import { hash, randomBytes } from "node:crypto";

export const API_KEY_PREFIX = "pbk_";

/** A new API key: `pbk_` and 256 random bits, base64url. */
export function generateApiKeyToken(): string {
  return `${API_KEY_PREFIX}${randomBytes(32).toString("base64url")}`;
}

/** SHA-256, hex. The one-shot `hash` is several times cheaper than a Hash object, per request. */
export function hashToken(token: string): string {
  return hash("sha256", token, "hex");
}

/** What lists show of a key: enough to recognise it, far too little to use it. */
export function displayPrefix(token: string): string {
  return token.slice(0, token.startsWith(API_KEY_PREFIX) ? 12 : 8);
}

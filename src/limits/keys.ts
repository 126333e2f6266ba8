import type { Actor } from "../auth/index.ts";

/** One credential: an API key or OAuth token by its id, a Basic email/password by its member. */
export function credentialKey(actor: Actor): string {
  const { kind, id } = actor.credential;
  return `${kind}:${id ?? actor.memberId}`;
}

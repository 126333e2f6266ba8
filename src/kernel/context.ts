import { fail } from "./errors.ts";

/**
 * The GraphQL context every resolver gets. The kernel imports no domain, so it declares only what
 * is not theirs; server/ wiring declares the rest by declaration merging (server/context.ts: who
 * is asking, the shared services, this request's loaders, the workspace's catalog), so resolvers
 * see the same precise types as if they were declared here.
 */
export interface Context {
  /** Set for WebSocket operations: closes the connection (4403 when a stream's credential is revoked). */
  closeConnection?: (code: number, reason: string) => void;
}

/** The actor of an authenticated operation (the auth plugin has already refused anonymous ones). */
export function actorOf(context: Context): NonNullable<Context["actor"]> {
  if (!context.actor) throw fail.unauthenticated("This operation needs a credential.", false);
  return context.actor;
}

import type { Actor } from "../auth/actor.ts";
import type { Catalog } from "../metadata/catalog.ts";
import { type Loaders, RequestLoaders } from "../server/loaders.ts";
import type { Services } from "../server/services.ts";
import { fail } from "./errors.ts";

/** The GraphQL context: who is asking, the shared services, and this request's loaders. */
export interface Context {
  actor: Actor | null;
  services: Services;
  loaders: Loaders;
  /** The workspace's catalog (types, fields, access), read once per request. */
  catalog(): Promise<Catalog>;
  /** Set for WebSocket operations: closes the connection (4403 when a stream's credential is revoked). */
  closeConnection?: (code: number, reason: string) => void;
}

export function createContext(services: Services, actor: Actor | null): Context {
  // One closure per request, shared by resolvers and loaders (Yoga copies the context's own
  // properties into its own object, so methods on a prototype would be lost).
  let cached: Promise<Catalog> | null = null;
  const catalog = (): Promise<Catalog> => {
    if (!actor) return Promise.reject(fail.unauthenticated("This operation needs a credential.", false));
    cached ??= services.catalogs.get(actor.workspaceId);
    return cached;
  };
  return { actor, services, loaders: new RequestLoaders(services, actor, catalog), catalog };
}

/** The actor of an authenticated operation (the auth plugin has already refused anonymous ones). */
export function actorOf(context: Context): Actor {
  if (!context.actor) throw fail.unauthenticated("This operation needs a credential.", false);
  return context.actor;
}

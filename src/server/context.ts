import type { Actor } from "../auth/index.ts";
import type { Context } from "../kernel/index.ts";
import { fail } from "../kernel/index.ts";
import type { Catalog } from "../metadata/index.ts";
import { type Loaders, RequestLoaders } from "./loaders.ts";
import type { Services } from "./services.ts";

declare module "../kernel/context.ts" {
  /** The GraphQL context: who is asking, the shared services, and this request's loaders. */
  interface Context {
    actor: Actor | null;
    services: Services;
    loaders: Loaders;
    /** The workspace's catalog (types, fields, access), read once per request. */
    catalog(): Promise<Catalog>;
  }
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

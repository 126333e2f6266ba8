import type { Actor } from "../auth/actor.ts";
import { fail } from "../schema/errors.ts";
import { createLoaders, type Loaders } from "./loaders.ts";
import type { Services } from "./services.ts";

/** The GraphQL context: who is asking, the shared services, and this request's loaders. */
export interface Context {
  actor: Actor | null;
  services: Services;
  loaders: Loaders;
}

export function createContext(services: Services, actor: Actor | null): Context {
  return { actor, services, loaders: createLoaders(services, actor) };
}

/** The actor of an authenticated operation (the auth plugin has already refused anonymous ones). */
export function actorOf(context: Context): Actor {
  if (!context.actor) throw fail.unauthenticated("This operation needs a credential.", false);
  return context.actor;
}

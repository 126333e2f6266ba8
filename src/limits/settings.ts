import { type GraphQLSchema, getIntrospectionQuery, parse } from "graphql";
import type { Env } from "../kernel/index.ts";
import { estimateCost } from "./cost.ts";
import type { BucketLimit } from "./rateLimit.ts";

/** Every limit, read from the environment once (src/kernel/env.ts documents the variables). */
export interface LimitSettings {
  maxCost: number;
  /**
   * Without a credential only introspection runs; unset, the cap is a quarter above what the full
   * introspection query costs on the served schema (computed by the cost plugin).
   */
  anonymousMaxCost: number | null;
  maxDepth: number;
  maxAliases: number;
  maxRootFields: number;
  maxDirectives: number;
  maxTokens: number;
  /** Per credential; null when rate limiting is off. */
  credentialRate: BucketLimit | null;
  /** Per address, for requests without a credential. */
  anonymousRate: BucketLimit | null;
  maxSubscriptionsPerCredential: number;
  maxWebhooksPerWorkspace: number;
}

/** The cost of the full introspection query GraphiQL and codegen send (descriptions, deprecations…). */
export function introspectionCost(schema: GraphQLSchema): number {
  const query = getIntrospectionQuery({
    descriptions: true,
    specifiedByUrl: true,
    directiveIsRepeatable: true,
    schemaDescription: true,
    inputValueDeprecation: true,
    oneOf: true,
  });
  return estimateCost(schema, parse(query), null, {}).cost;
}

const perMinute = (limit: number): BucketLimit | null => (limit > 0 ? { limit, windowMs: 60_000 } : null);

export function limitSettings(env: Env): LimitSettings {
  return {
    maxCost: env.PLUGBOARD_MAX_QUERY_COST,
    anonymousMaxCost: env.PLUGBOARD_MAX_ANONYMOUS_QUERY_COST ?? null,
    maxDepth: env.PLUGBOARD_MAX_QUERY_DEPTH,
    maxAliases: env.PLUGBOARD_MAX_ALIASES,
    maxRootFields: env.PLUGBOARD_MAX_ROOT_FIELDS,
    maxDirectives: env.PLUGBOARD_MAX_DIRECTIVES,
    maxTokens: env.PLUGBOARD_MAX_TOKENS,
    credentialRate: perMinute(env.PLUGBOARD_RATE_LIMIT),
    anonymousRate: perMinute(env.PLUGBOARD_RATE_LIMIT_ANONYMOUS),
    maxSubscriptionsPerCredential: env.PLUGBOARD_MAX_SUBSCRIPTIONS,
    maxWebhooksPerWorkspace: env.PLUGBOARD_MAX_WEBHOOKS,
  };
}

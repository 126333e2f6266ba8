import type { IncomingMessage, ServerResponse } from "node:http";
import type { GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { Actor } from "../auth/index.ts";
import { fail } from "../kernel/index.ts";
import { credentialKey } from "./keys.ts";
import { type BucketLimit, type Decision, type RateLimiter, rateLimitHeaders } from "./rateLimit.ts";
import type { LimitSettings } from "./settings.ts";

interface RequestContext {
  actor: Actor | null;
  /** Node's request and response, from Yoga's server context (WebSocket operations have no `res`). */
  req?: IncomingMessage;
  res?: ServerResponse;
}

/** One bucket per credential (API key, OAuth token, or member for Basic); per address without one. */
function bucketOf(
  context: RequestContext,
  settings: LimitSettings,
): { key: string; limit: BucketLimit } | null {
  const actor = context.actor;
  if (actor) {
    if (!settings.credentialRate) return null;
    return { key: credentialKey(actor), limit: settings.credentialRate };
  }
  if (!settings.anonymousRate) return null;
  return { key: `ip:${context.req?.socket.remoteAddress ?? "unknown"}`, limit: settings.anonymousRate };
}

/** Sets the RateLimit-* headers; the 429 error when the bucket is empty. */
function answer(decision: Decision, res: ServerResponse | undefined): GraphQLError | undefined {
  const headers = rateLimitHeaders(decision);
  if (res && !res.headersSent)
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  if (!decision.allowed) {
    return fail.rateLimited(
      `Rate limit of ${decision.limit} requests per minute reached; retry in ${decision.retryAfterSeconds} s.`,
      decision.retryAfterSeconds,
      headers,
    );
  }
}

/**
 * Takes one request from the operation's bucket before it runs (onExecute / onSubscribe, once the
 * credential is verified): 429 `RATE_LIMITED` with Retry-After when empty, and the RateLimit-*
 * headers on every response. Requests whose credential fails are 401 before this and cost a bucket
 * nothing; the failed password checks among them are braked by `LoginThrottle`.
 */
export function useRateLimit(limiter: RateLimiter, settings: LimitSettings): Plugin {
  type Stop = (result: { errors: GraphQLError[] }) => void;
  // A result with the error, not a throw: graphql-ws treats a throwing execute as an internal error.
  function settle(decision: Decision, res: ServerResponse | undefined, stop: Stop): void {
    const refused = answer(decision, res);
    if (refused) stop({ errors: [refused] });
  }
  function check(contextValue: unknown, stop: Stop): void | Promise<void> {
    const context = contextValue as RequestContext;
    const bucket = bucketOf(context, settings);
    if (!bucket) return;
    const decision = limiter.take(bucket.key, bucket.limit);
    // Only a key's first request in a process waits for the database (src/limits/syncedStore.ts).
    if (decision instanceof Promise) return decision.then((d) => settle(d, context.res, stop));
    settle(decision, context.res, stop);
  }
  return {
    onExecute: ({ args, setResultAndStopExecution }) => check(args.contextValue, setResultAndStopExecution),
    onSubscribe: ({ args, setResultAndStopExecution }) => check(args.contextValue, setResultAndStopExecution),
  };
}

import { type DocumentNode, GraphQLError, type GraphQLSchema } from "graphql";
import type { Plugin } from "graphql-yoga";
import { fail } from "../kernel/index.ts";
import { type CostEstimate, estimateCost } from "./cost.ts";
import { introspectionCost, type LimitSettings } from "./settings.ts";

interface OperationArgs {
  schema: GraphQLSchema;
  document: DocumentNode;
  operationName?: string | null;
  variableValues?: Record<string, unknown> | null;
  contextValue: unknown;
}

/**
 * Refuses an operation whose estimated cost (src/limits/cost.ts) or root field count is over the
 * limit, after validation and before any resolver runs: onExecute and onSubscribe, so HTTP, SSE and
 * WebSocket operations alike. Estimates that no variable decided are cached per document (Yoga
 * reuses one parsed document per query text), so a connector's repeated page costs a map lookup.
 */
export function useCostLimit(settings: LimitSettings): Plugin {
  const cache = new WeakMap<DocumentNode, Map<string, CostEstimate>>();
  let anonymousMax = settings.anonymousMaxCost;

  const check = (args: OperationArgs) => {
    // Only the context's actor is read (server/ wires this plugin: no import back).
    const anonymous = !(args.contextValue as { actor: unknown }).actor;
    if (anonymous && anonymousMax === null) anonymousMax = Math.ceil(introspectionCost(args.schema) * 1.25);
    const limit = anonymous ? (anonymousMax as number) : settings.maxCost;
    const name = args.operationName ?? "";
    let estimate = cache.get(args.document)?.get(name);
    if (!estimate) {
      // Past the limit the walk stops: its exact size no longer matters, and it could be huge.
      estimate = estimateCost(args.schema, args.document, args.operationName, args.variableValues, limit);
      if (!estimate.usedVariables && estimate.cost <= limit) {
        const byName = cache.get(args.document) ?? new Map<string, CostEstimate>();
        cache.set(args.document, byName);
        byName.set(name, estimate);
      }
    }
    if (estimate.rootFields > settings.maxRootFields) {
      throw fail.tooComplex(
        `The operation selects ${estimate.rootFields} root fields; the limit is ${settings.maxRootFields}. Split it into several requests.`,
        estimate.rootFields,
        settings.maxRootFields,
      );
    }
    if (estimate.cost > limit) {
      throw fail.tooComplex(
        `The operation's estimated cost is over ${limit} field values (each list multiplies what it selects by its page size).${
          anonymous
            ? " Without a credential only introspection is allowed."
            : " Ask for smaller pages (first/last) or fewer nested lists."
        }`,
        estimate.cost,
        limit,
      );
    }
  };
  // A result with the error, not a throw: graphql-ws treats a throwing execute as an internal error.
  const guard = (args: OperationArgs, stop: (result: { errors: GraphQLError[] }) => void) => {
    try {
      check(args);
    } catch (error) {
      if (!(error instanceof GraphQLError)) throw error;
      stop({ errors: [error] });
    }
  };
  return {
    onExecute: ({ args, setResultAndStopExecution }) => guard(args, setResultAndStopExecution),
    onSubscribe: ({ args, setResultAndStopExecution }) => guard(args, setResultAndStopExecution),
  };
}

import { maxAliasesPlugin } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthPlugin } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesPlugin } from "@escape.tech/graphql-armor-max-directives";
import { GraphQLError, type ValidationContext } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { LimitSettings } from "./settings.ts";

/**
 * graphql-armor's rejections become 400 BAD_USER_INPUT naming the limit (a code of the closed list in
 * src/kernel/errors.ts), reported as validation errors rather than thrown: app.ts validates
 * WebSocket operations itself and returns the errors, where a throw would be an internal error
 * closing the socket.
 */
function rejectWith(limit: number) {
  return (context: ValidationContext | null, error: GraphQLError) => {
    Object.assign(error.extensions as Record<string, unknown>, {
      code: "BAD_USER_INPUT",
      field: "query",
      limit,
      http: { status: 400 },
    });
    context?.reportError(error);
  };
}

/**
 * Shape caps checked while the document is parsed and validated, so they also apply to
 * WebSocket operations (app.ts validates those with the same envelop) and are cached with the
 * validation result: graphql-armor's depth, alias and directive rules, and graphql-js's own token
 * limit (its parser stops at `maxTokens`, before building the rest of a huge document).
 * Introspection's depth is left to the cost estimate: the standard introspection query nests
 * `ofType` nine deep.
 */
export function useShapeLimits(settings: LimitSettings): Plugin[] {
  const tokens: Plugin = {
    // Wraps the parse function it is given, so earlier plugins' guards (useInputLimits) still apply.
    onParse({ parseFn, setParseFn }) {
      setParseFn((source, options) => {
        try {
          return parseFn(source, { ...options, maxTokens: settings.maxTokens });
        } catch (error) {
          if (error instanceof GraphQLError && /tokens/.test(error.message)) {
            rejectWith(settings.maxTokens)(null, error);
          }
          throw error;
        }
      });
    },
  };
  return [
    tokens,
    maxDepthPlugin({
      n: settings.maxDepth,
      flattenFragments: true,
      ignoreIntrospection: true,
      onReject: [rejectWith(settings.maxDepth)],
      propagateOnRejection: false,
    }) as Plugin,
    maxAliasesPlugin({
      n: settings.maxAliases,
      onReject: [rejectWith(settings.maxAliases)],
      propagateOnRejection: false,
    }) as Plugin,
    maxDirectivesPlugin({
      n: settings.maxDirectives,
      onReject: [rejectWith(settings.maxDirectives)],
    }) as Plugin,
  ];
}

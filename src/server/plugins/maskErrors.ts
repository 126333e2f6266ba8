import { GraphQLError } from "graphql";
import type { Logger } from "pino";
import { isAppErrorCode } from "../../kernel/index.ts";

/**
 * graphql-jit is CommonJS and may load graphql's CommonJS build while this module loads the ESM
 * one: two GraphQLError classes. Recognise either by name.
 */
function isGraphQLError(error: unknown): error is GraphQLError {
  return error instanceof GraphQLError || (error instanceof Error && error.name === "GraphQLError");
}

/**
 * Expected failures keep their message and code. GraphQL's own request errors (syntax, validation,
 * variable coercion, a malformed HTTP request) are the client's input: they get `BAD_USER_INPUT`
 * and a reason (logged once, at info, by useRequestErrorCodes). Anything else is logged here and
 * replaced by an opaque `INTERNAL_SERVER_ERROR`: no stack, no SQL.
 */
/**
 * PostgreSQL refusing a string it cannot store: 22021 (character_not_in_repertoire: a NUL in text)
 * and 22P05 (untranslatable_character: `\u0000` in jsonb). useInputLimits refuses these in every
 * GraphQL input first; this is the backstop for anything that reaches SQL another way.
 */
const UNSTORABLE_TEXT = new Set(["22021", "22P05"]);

function sqlStateOf(error: unknown): unknown {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && code.length === 5) return code;
  }
  return undefined;
}

export function createErrorMasker(logger: Logger) {
  return (error: unknown): Error => {
    if (isGraphQLError(error)) {
      const original = error.originalError;
      // graphql-jit's variable errors come without `extensions`.
      const code = error.extensions?.code;
      if (isAppErrorCode(code)) return error;
      if (!original || isGraphQLError(original)) {
        const reason = error.extensions?.http
          ? "request"
          : /^Variable "\$/.test(error.message)
            ? "variables"
            : undefined;
        // Yoga's multipart parser refuses an oversize file part with HTTP 413 and a code of its own.
        const status = (error.extensions?.http as { status?: number } | undefined)?.status;
        // A copy: graphql-jit's errors have a read-only `extensions`.
        return new GraphQLError(error.message, {
          nodes: error.nodes,
          source: error.source,
          positions: error.positions,
          path: error.path,
          extensions: {
            ...(error.extensions ?? {}),
            code: status === 413 ? "PAYLOAD_TOO_LARGE" : "BAD_USER_INPUT",
            ...(reason && error.extensions?.reason === undefined ? { reason } : {}),
          },
        });
      }
      if (UNSTORABLE_TEXT.has(sqlStateOf(original) as string)) {
        return new GraphQLError(
          "A string contains a NUL character (\\u0000) or a lone UTF-16 surrogate, which cannot be stored.",
          { nodes: error.nodes, path: error.path, extensions: { code: "BAD_USER_INPUT" } },
        );
      }
      logger.error({ err: original, path: error.path }, "unexpected error in an operation");
    } else {
      logger.error({ err: error }, "unexpected error");
    }
    return new GraphQLError(
      "Unexpected server error; it has been logged. Try again, or contact the operator.",
      {
        extensions: { code: "INTERNAL_SERVER_ERROR" },
      },
    );
  };
}

import { GraphQLError } from "graphql";
import type { Logger } from "pino";
import { isAppErrorCode } from "../../schema/errors.ts";

/**
 * Expected failures keep their message and code. GraphQL's own request errors (syntax, validation,
 * variable coercion) are the client's input: they get `BAD_USER_INPUT`. Anything else is logged and
 * replaced by an opaque `INTERNAL_SERVER_ERROR`: no stack, no SQL.
 */
/**
 * graphql-jit is CommonJS and may load graphql's CommonJS build while this module loads the ESM
 * one: two GraphQLError classes. Recognise either by name.
 */
function isGraphQLError(error: unknown): error is GraphQLError {
  return error instanceof GraphQLError || (error instanceof Error && error.name === "GraphQLError");
}

export function createErrorMasker(logger: Logger) {
  return (error: unknown): Error => {
    if (isGraphQLError(error)) {
      const original = error.originalError;
      // graphql-jit's variable errors come without `extensions`.
      const code = error.extensions?.code;
      if (isAppErrorCode(code)) return error;
      if (!original || isGraphQLError(original)) {
        // Yoga's multipart parser refuses an oversize file part with HTTP 413 and a code of its own.
        const status = (error.extensions?.http as { status?: number } | undefined)?.status;
        return new GraphQLError(error.message, {
          nodes: error.nodes,
          source: error.source,
          positions: error.positions,
          path: error.path,
          extensions: {
            ...(error.extensions ?? {}),
            code: status === 413 ? "PAYLOAD_TOO_LARGE" : "BAD_USER_INPUT",
          },
        });
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

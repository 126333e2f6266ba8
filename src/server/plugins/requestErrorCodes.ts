import { GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";
import { isAppErrorCode } from "../../schema/errors.ts";

function tag(error: GraphQLError): void {
  const extensions = error.extensions as Record<string, unknown>;
  if (!isAppErrorCode(extensions.code)) extensions.code = "BAD_USER_INPUT";
}

/**
 * Syntax and validation errors are the client's input, so they carry `BAD_USER_INPUT` from the
 * closed list of API.md §5 (Yoga would otherwise add its own codes).
 */
export function useRequestErrorCodes(): Plugin {
  return {
    onParse:
      () =>
      ({ result }) => {
        if (result instanceof GraphQLError) tag(result);
      },
    onValidate:
      () =>
      ({ valid, result }) => {
        if (!valid) for (const error of result) tag(error);
      },
  };
}

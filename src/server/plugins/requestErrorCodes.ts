import type { ServerResponse } from "node:http";
import { GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { Logger } from "pino";
import { isAppErrorCode } from "../../kernel/index.ts";

/**
 * Why a request was refused before it ran (`extensions.reason` next to `BAD_USER_INPUT`): the
 * document does not parse, does not validate against the schema, its variables do not coerce, or
 * the HTTP request itself is malformed (not JSON, no query, a mutation over GET, a wrong content
 * type). One code keeps the closed list of src/kernel/errors.ts; the reason tells the cases apart.
 */
export type RequestErrorReason = "syntax" | "validation" | "variables" | "request";

/** Tags a GraphQL request error with BAD_USER_INPUT (unless it has a code of the list) and a reason. */
export function tagRequestError(error: GraphQLError, reason: RequestErrorReason | undefined): void {
  if (!error.extensions) (error as { extensions: Record<string, unknown> }).extensions = {};
  const extensions = error.extensions as Record<string, unknown>;
  if (!isAppErrorCode(extensions.code)) extensions.code = "BAD_USER_INPUT";
  if (reason && extensions.code === "BAD_USER_INPUT" && extensions.reason === undefined) {
    extensions.reason = reason;
  }
}

interface HttpExtension {
  status?: number;
  spec?: boolean;
}

/** No Accept header, or only `*∕*`: what curl and fetch send unless told otherwise. */
function acceptsAnything(request: Request): boolean {
  const accept = request.headers.get("accept")?.trim();
  return !accept || accept === "*/*";
}

function unsupportedMediaType(fetchAPI: { Response: typeof Response }): Response {
  const body = {
    errors: [
      {
        message:
          "Unsupported Content-Type: send `application/json` (or `application/graphql-response+json`), or use GET.",
        extensions: { code: "BAD_USER_INPUT", reason: "request" },
      },
    ],
  };
  return new fetchAPI.Response(JSON.stringify(body), {
    status: 415,
    headers: { "content-type": "application/json; charset=utf-8" },
  });
}

/**
 * Request errors: their codes and reasons (docs/errors-and-limits.md), their HTTP status, and one log line.
 *
 * Status (GraphQL over HTTP): with `Accept: application/graphql-response+json` they are 400. With an
 * explicit `Accept: application/json` the spec says 200 (legacy clients read the body), and so
 * they stay. With no Accept or `*∕*` the spec (after its 2025 watershed) treats the request as
 * graphql-response+json: 400, still served as `application/json`, which every client reads.
 *
 * They are the caller's mistake, not the server's: logged once at `info` with the request id, never
 * at `error` (the access log line has the id and status too).
 */
export function useRequestErrorCodes(logger: Logger): Plugin<{ res?: ServerResponse }> {
  return {
    onParse:
      () =>
      ({ result }) => {
        if (result instanceof GraphQLError) tagRequestError(result, "syntax");
      },
    onValidate:
      () =>
      ({ valid, result }) => {
        if (!valid) for (const error of result) tagRequestError(error, "validation");
      },
    onResultProcess: ({ request, result, setResult, serverContext }) => {
      if (Array.isArray(result) || Symbol.asyncIterator in result) return;
      if ("data" in result || !result.errors?.length) return;
      const refused = result.errors.filter((error) => error.extensions?.code === "BAD_USER_INPUT");
      if (refused.length === 0) return;
      if (acceptsAnything(request)) {
        // Copies: Yoga caches a document's parse and validation errors across requests.
        const errors = result.errors.map((error) => {
          const http = error.extensions?.http as HttpExtension | undefined;
          if (error.extensions?.code !== "BAD_USER_INPUT" || (http && !http.spec)) return error;
          return new GraphQLError(error.message, {
            nodes: error.nodes,
            source: error.source,
            positions: error.positions,
            path: error.path,
            originalError: error.originalError,
            extensions: { ...error.extensions, http: { ...http, spec: false, status: http?.status ?? 400 } },
          });
        });
        setResult({ ...result, errors });
      }
      logger.info(
        {
          reqId: (serverContext as { res?: ServerResponse }).res?.getHeader("x-request-id"),
          code: "BAD_USER_INPUT",
          reasons: refused.map((error) => error.extensions?.reason),
          errors: refused.map((error) => error.message),
        },
        "request refused",
      );
    },
    onResponse: ({ response, setResponse, fetchAPI }) => {
      // Yoga answers an unsupported Content-Type with an empty 415.
      if (response.status === 415 && !response.headers.get("content-type")) {
        setResponse(unsupportedMediaType(fetchAPI));
      }
    },
  };
}

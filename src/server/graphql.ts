import type { IncomingMessage, ServerResponse } from "node:http";
import { renderGraphiQL } from "@graphql-yoga/render-graphiql";
import { createFetch } from "@whatwg-node/fetch";
import { createYoga, type YogaServerInstance } from "graphql-yoga";
import type { Logger } from "pino";
import type { Actor, RequestMeta } from "../auth/index.ts";
import { readCredential } from "../auth/index.ts";
import type { Context, Env } from "../kernel/index.ts";
import { fail } from "../kernel/index.ts";
import { isValidOrigin } from "../ledger/index.ts";
import { createContext } from "./context.ts";
import { type BodyLimit, MAX_BODY_BYTES, useStreamedBodyLimit } from "./limits.ts";
import { IDEMPOTENCY_HEADER, useIdempotencyKey } from "./plugins/idempotencyKey.ts";
import { useInputLimits } from "./plugins/inputLimits.ts";
import { useJitExecution } from "./plugins/jit.ts";
import { createErrorMasker } from "./plugins/maskErrors.ts";
import { useRenderedReads } from "./plugins/renderedReads.ts";
import { useRequestErrorCodes } from "./plugins/requestErrorCodes.ts";
import { useRequireCredential } from "./plugins/requireCredential.ts";
import { useValidationCache } from "./plugins/validationCache.ts";
import { schema } from "./schema.ts";
import type { Services } from "./services.ts";

export interface ServerContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** Set for WebSocket operations, authenticated for each operation (see websocket.ts). */
  wsActor?: Actor;
}

/**
 * `X-Plugboard-Origin`: the label stored on the changes the request writes (ledger/origin.ts);
 * a bad one is refused before the operation runs.
 */
export function readOrigin(value: string | string[] | null | undefined): string | null {
  if (Array.isArray(value)) value = value.join(", ");
  if (value == null || value === "") return null;
  if (!isValidOrigin(value)) {
    throw fail.badInput(
      "X-Plugboard-Origin",
      "The X-Plugboard-Origin header is 1 to 200 printable ASCII characters.",
      { http: { status: 400 } },
    );
  }
  return value;
}

/** The actor with the request's origin (a copy: verified actors are cached and shared). */
function withOrigin(actor: Actor | null, origin: string | null): Actor | null {
  return actor && origin !== null ? { ...actor, origin } : actor;
}

/** The request id (app.ts sets it on every response) and the Idempotency-Key a mutation came with. */
function requestMeta(initial: ServerContext & { request: Request }): RequestMeta {
  const requestId = initial.res.getHeader("x-request-id");
  return {
    requestId: typeof requestId === "string" ? requestId : null,
    idempotencyKey: initial.request.headers.get(IDEMPOTENCY_HEADER)?.slice(0, 200) ?? null,
  };
}

/** File parts one GraphQL multipart request may carry. */
const MAX_UPLOAD_FILES = 5;

/**
 * The GraphQL endpoint (HTTP, SSE and, through websocket.ts, WebSocket): Yoga with the schema, the
 * credential check, error masking and the request limits; and the body limit its requests get.
 */
export function createGraphQL(
  services: Services,
  env: Env,
  logger: Logger,
): { yoga: YogaServerInstance<ServerContext, Context>; bodyLimit: BodyLimit } {
  /** The request's actor: synchronous when the credential is in the cache (most requests). */
  function authenticate(request: Request, address: string): Actor | null | Promise<Actor> {
    const credential = readCredential(request.headers, request.url);
    if (credential === "malformed") {
      throw fail.unauthenticated(
        "The Authorization header is malformed; use `Bearer <token>` or Basic.",
        true,
      );
    }
    if (credential?.kind === "password") {
      // Wrong passwords are counted per email and address; locked ones get 429 (src/limits/bruteForce.ts).
      return services.limits.logins.guard(credential.email, address, () =>
        services.auth.authenticate(credential),
      );
    }
    return credential ? services.auth.authenticate(credential) : null;
  }

  let graphiqlPage: string | undefined;
  // uploadFile (GraphQL multipart): Yoga's parser holds file parts in memory and has no size limit
  // of its own, so every part is bounded here; large files belong on the streamed POST /files.
  const maxFileBytes = env.PLUGBOARD_FILE_MAX_BYTES;
  const bodyLimit: BodyLimit = (type) =>
    type?.toLowerCase().startsWith("multipart/form-data")
      ? MAX_BODY_BYTES + MAX_UPLOAD_FILES * maxFileBytes
      : MAX_BODY_BYTES;
  const yoga = createYoga<ServerContext, Context>({
    schema,
    fetchAPI: createFetch({
      formDataLimits: {
        fileSize: maxFileBytes,
        files: MAX_UPLOAD_FILES,
        fieldSize: MAX_BODY_BYTES,
        parts: MAX_UPLOAD_FILES + 2,
      },
    }),
    graphqlEndpoint: "/graphql",
    landingPage: false,
    graphiql: {
      title: "Plugboard",
      defaultQuery: "{\n  viewer {\n    member { id email role }\n    workspace { name }\n  }\n}\n",
      // Every request needs a credential: show where the key goes (the Headers tab takes JSON).
      headers: JSON.stringify({ Authorization: "Bearer <paste your pbk_ key>" }, null, 2),
      defaultEditorToolsVisibility: "headers",
    },
    // GraphiQL's scripts and styles inlined from the installed package (yoga's default loads them
    // from a CDN: a blank page offline). The options are constant, so the ~9 MB page is built once.
    renderGraphiQL: (options) => (graphiqlPage ??= renderGraphiQL(options)),
    logging: {
      // Yoga logs debug lines on every request: build them only when they will be written.
      debug: (...args) => {
        if (logger.isLevelEnabled("debug")) logger.debug(args.map(String).join(" "));
      },
      info: (...args) => logger.info(args.map(String).join(" ")),
      warn: (...args) => logger.warn(args.map(String).join(" ")),
      // Yoga logs each error the masker replaced: the masker logged it already, with its details.
      error: (...args) => {
        if (!(args[0] instanceof Error)) logger.error(args.map(String).join(" "));
      },
    },
    maskedErrors: { maskError: createErrorMasker(logger) },
    context: (initial) => {
      // WebSocket operations carry the upgrade request's header.
      const origin = readOrigin(
        initial.wsActor
          ? initial.req.headers["x-plugboard-origin"]
          : initial.request.headers.get("x-plugboard-origin"),
      );
      if (initial.wsActor) return createContext(services, withOrigin(initial.wsActor, origin));
      const actor = authenticate(initial.request, initial.req.socket.remoteAddress ?? "");
      const meta = requestMeta(initial);
      // A copy per request: verified actors are cached and shared.
      const forRequest = (verified: Actor | null) =>
        verified && { ...verified, request: meta, ...(origin !== null ? { origin } : {}) };
      return actor instanceof Promise
        ? actor.then((verified) => createContext(services, forRequest(verified)))
        : createContext(services, forRequest(actor));
    },
    // Bodies are limited by refuseLargeBody (declared length) and useStreamedBodyLimit (chunked).
    maxRequestBodySize: false,
    // Parsed documents stay cached by Yoga; their validation results by useValidationCache.
    parserAndValidationCache: { validationCache: false },
    plugins: [
      useValidationCache(),
      useStreamedBodyLimit(bodyLimit),
      useRequestErrorCodes(logger),
      useInputLimits(),
      useRequireCredential(),
      ...services.limits.plugins(),
      useIdempotencyKey(services.db),
      useJitExecution(schema),
      ...(env.PLUGBOARD_RENDERED_READS ? [useRenderedReads(schema)] : []),
    ],
  });
  return { yoga, bodyLimit };
}

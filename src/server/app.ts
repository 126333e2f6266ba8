import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ExecutionArgs } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { createYoga } from "graphql-yoga";
import type { Logger } from "pino";
import { WebSocketServer } from "ws";
import type { Actor } from "../auth/actor.ts";
import { readCredential } from "../auth/credentials.ts";
import type { DatabaseHandles } from "../db/client.ts";
import { createOAuthServer } from "../oauth/server.ts";
import { AppError, fail } from "../schema/errors.ts";
import { schema } from "../schema/index.ts";
import { type Context, createContext } from "./context.ts";
import type { Env } from "./env.ts";
import { handleHealth } from "./health.ts";
import { refuseLargeBody, useStreamedBodyLimit } from "./limits.ts";
import { startMaintenance } from "./maintenance.ts";
import { useJitExecution } from "./plugins/jit.ts";
import { createErrorMasker } from "./plugins/maskErrors.ts";
import { useRequestErrorCodes } from "./plugins/requestErrorCodes.ts";
import { useRequireCredential } from "./plugins/requireCredential.ts";
import { createServices, type Services } from "./services.ts";

export interface AppOptions {
  /** With `listen` (PostgreSQL), writes through other processes wake this one's subscribers too. */
  database: DatabaseHandles;
  env: Env;
  logger: Logger;
}

export interface App {
  server: Server;
  services: Services;
  /** Stops accepting, finishes in-flight requests, closes sockets. The caller closes the database. */
  close(): Promise<void>;
}

interface ServerContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** Set for WebSocket operations, authenticated once at `connection_init`. */
  wsActor?: Actor;
}

/** Builds the whole HTTP + WebSocket server without listening; `main` listens, tests use port 0. */
export function buildApp({ database, env, logger }: AppOptions): App {
  const { db, listen } = database;
  const services = createServices(database, env, logger);
  // Polling only covers other processes' writes; with no LISTEN (embedded PGlite, one process)
  // local events wake everything, so the safety-net polls can be slow and cheap.
  const pollScale = listen ? 1 : 5;
  services.sequencer.start(pollScale);
  services.webhookWorker.start(pollScale);
  void services.subscriptions.start();
  // Other processes' schema changes arrive by NOTIFY, so reads skip the per-request version check.
  const unwatchCatalogs = listen
    ? services.catalogs.watch(listen).catch((error) => {
        logger.error({ err: error }, "LISTEN failed; catalogs are checked on every request");
        return async () => {};
      })
    : Promise.resolve(async () => {});
  const stopMaintenance = startMaintenance(services);

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

  const oauth = createOAuthServer({
    db,
    logger,
    // With PORT=0 (tests) the issuer's port is the one actually bound.
    publicUrl: () =>
      env.PUBLIC_URL || env.PORT !== 0
        ? env.publicUrl
        : `http://${env.HOST}:${(server.address() as AddressInfo).port}`,
    onRevoked: () => services.auth.invalidate(),
    logins: services.limits.logins,
  });

  const yoga = createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: "/graphql",
    landingPage: false,
    graphiql: {
      title: "Plugboard",
      defaultQuery: "{\n  viewer {\n    member { id email role }\n    workspace { name }\n  }\n}\n",
    },
    logging: {
      // Yoga logs debug lines on every request: build them only when they will be written.
      debug: (...args) => {
        if (logger.isLevelEnabled("debug")) logger.debug(args.map(String).join(" "));
      },
      info: (...args) => logger.info(args.map(String).join(" ")),
      warn: (...args) => logger.warn(args.map(String).join(" ")),
      error: (...args) => logger.error(args.map(String).join(" ")),
    },
    maskedErrors: { maskError: createErrorMasker(logger) },
    context: (initial) => {
      const actor = initial.wsActor ?? authenticate(initial.request, initial.req.socket.remoteAddress ?? "");
      return actor instanceof Promise
        ? actor.then((verified) => createContext(services, verified))
        : createContext(services, actor);
    },
    // Bodies are limited by refuseLargeBody (declared length) and useStreamedBodyLimit (chunked).
    maxRequestBodySize: false,
    plugins: [
      useStreamedBodyLimit(),
      useRequestErrorCodes(),
      useRequireCredential(),
      ...services.limits.plugins(),
      useJitExecution(schema),
    ],
  });

  const server = createServer((req, res) => {
    const started = performance.now();
    // The path only, read once on arrival (OAuth rewrites req.url): query strings may carry
    // `access_token`, which is never logged.
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const requestId = String(req.headers["x-request-id"] ?? randomUUID()).slice(0, 64);
    res.setHeader("x-request-id", requestId);
    res.on("finish", () => {
      logger.info(
        {
          reqId: requestId,
          method: req.method,
          path,
          status: res.statusCode,
          durationMs: Math.round((performance.now() - started) * 100) / 100,
        },
        "request",
      );
    });
    if (handleHealth(path, res, db, services)) return;
    if (refuseLargeBody(req, res)) return;
    if (oauth.handle(req, res, path)) return;
    void yoga(req, res); // Yoga's server context already carries req and res
  });

  const wsServer = new WebSocketServer({ server, path: "/graphql" });
  const wsHandle = useServer<Record<string, unknown> | undefined, { actor?: Actor }>(
    {
      // Authenticated once per connection: 4401 without a credential, 4403 with a bad one.
      onConnect: async (ctx) => {
        const request = ctx.extra.request;
        const headers = new Headers();
        const authorization = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        if (typeof authorization === "string") headers.set("authorization", authorization);
        const apiKey = ctx.connectionParams?.["x-api-key"] ?? ctx.connectionParams?.apiKey;
        if (typeof apiKey === "string") headers.set("x-api-key", apiKey);
        const credential = readCredential(headers, request.url ?? "/");
        if (!credential) {
          ctx.extra.socket.close(4401, "Unauthorized: send a token in connection_init");
          return false;
        }
        try {
          if (credential === "malformed") throw fail.unauthenticated("malformed credential", true);
          (ctx.extra as { actor?: Actor }).actor = await services.auth.authenticate(credential);
          return true;
        } catch (error) {
          if (!(error instanceof AppError)) logger.error({ err: error }, "websocket authentication failed");
          ctx.extra.socket.close(4403, "Forbidden: the credential is invalid, expired or revoked");
          return false;
        }
      },
      onSubscribe: async (ctx, _id, params) => {
        const enveloped = yoga.getEnveloped({
          req: ctx.extra.request,
          wsActor: ctx.extra.actor,
          params,
        } as unknown as ServerContext);
        const document = enveloped.parse(params.query);
        const errors = enveloped.validate(enveloped.schema, document);
        if (errors.length > 0) return errors;
        const contextValue = (await enveloped.contextFactory()) as Context;
        contextValue.closeConnection = (code, reason) => ctx.extra.socket.close(code, reason);
        const args: ExecutionArgs = {
          schema: enveloped.schema,
          operationName: params.operationName ?? null,
          document,
          variableValues: params.variables ?? null,
          contextValue,
          rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe },
        };
        return args;
      },
      execute: (args) => (args.rootValue as { execute: typeof import("graphql").execute }).execute(args),
      subscribe: (args) =>
        (args.rootValue as { subscribe: typeof import("graphql").subscribe }).subscribe(args),
    },
    wsServer,
  );

  async function close(): Promise<void> {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    // Complete open subscriptions first, so clients get `complete` / the end of the SSE stream.
    await services.subscriptions.close();
    await wsHandle.dispose();
    await new Promise<void>((resolve) => wsServer.close(() => resolve()));
    await yoga.dispose();
    await (await unwatchCatalogs)();
    stopMaintenance();
    // Give in-flight requests a bounded time to finish, then cut what is left.
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, 10_000).unref());
    await Promise.race([closed, timeout]);
    server.closeAllConnections();
    await services.webhookWorker.stop();
    await services.sequencer.stop();
    await services.limits.close();
  }

  return { server, services, close };
}

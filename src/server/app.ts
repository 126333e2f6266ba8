import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { handleFiles } from "../files/index.ts";
import type { DatabaseHandles, Env } from "../kernel/index.ts";
import { createOAuthServer } from "../oauth/index.ts";
import { createGraphQL } from "./graphql.ts";
import { handleHealth } from "./health.ts";
import { refuseLargeBody } from "./limits.ts";
import { startMaintenance } from "./maintenance.ts";
import { createMetrics, type Metrics, sendMetrics } from "./metrics.ts";
import { createServices, type Services } from "./services.ts";
import { attachWebSocket } from "./websocket.ts";

export interface AppOptions {
  /** With `listen` (PostgreSQL), writes through other processes wake this one's subscribers too. */
  database: DatabaseHandles;
  env: Env;
  logger: Logger;
}

export interface App {
  server: Server;
  services: Services;
  metrics: Metrics;
  /** Stops accepting, finishes in-flight requests, closes sockets. The caller closes the database. */
  close(): Promise<void>;
}

/** `GET /` is where a first-time user lands: browsers go to GraphiQL, other clients get pointers. */
function sendRoot(req: IncomingMessage, res: ServerResponse): void {
  if (req.headers.accept?.includes("text/html")) {
    res.writeHead(302, { location: "/graphql" }).end();
    return;
  }
  res.writeHead(200, { "content-type": "application/json" });
  res.end(
    JSON.stringify({
      service: "plugboard",
      graphql: "/graphql",
      health: "/healthz",
      ready: "/readyz",
      oauth: "/.well-known/oauth-authorization-server",
    }),
  );
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
  const metrics = createMetrics(db, services);

  // With PORT=0 (tests) the public URL's port is the one actually bound.
  const publicUrl = () =>
    env.PUBLIC_URL || env.PORT !== 0
      ? env.publicUrl
      : `http://${env.HOST}:${(server.address() as AddressInfo).port}`;
  services.files.publicUrl = publicUrl;
  const oauth = createOAuthServer({
    db,
    logger,
    publicUrl,
    onRevoked: () => services.auth.invalidate(),
    logins: services.limits.logins,
  });

  const { yoga, bodyLimit } = createGraphQL(services, env, logger);

  const server = createServer((req, res) => {
    const started = performance.now();
    // The path only, read once on arrival (OAuth rewrites req.url): query strings may carry
    // `access_token`, which is never logged.
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const requestId = String(req.headers["x-request-id"] ?? randomUUID()).slice(0, 64);
    res.setHeader("x-request-id", requestId);
    res.on("finish", () => {
      metrics.observeRequest(req, res, path, (performance.now() - started) / 1000);
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
    if (path === "/" && (req.method === "GET" || req.method === "HEAD")) return sendRoot(req, res);
    if (handleHealth(path, res, db)) return;
    if (path === "/metrics") return sendMetrics(res, metrics.registry);
    if (handleFiles(req, res, path, services)) return; // streamed, with its own size limit
    if (refuseLargeBody(req, res, bodyLimit)) return;
    if (oauth.handle(req, res, path)) return;
    void yoga(req, res); // Yoga's server context already carries req and res
  });

  const webSocket = attachWebSocket(server, yoga, services, logger);

  async function close(): Promise<void> {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    // Complete open subscriptions first, so clients get `complete` / the end of the SSE stream.
    await services.subscriptions.close();
    await webSocket.close();
    await yoga.dispose();
    await (await unwatchCatalogs)();
    stopMaintenance();
    // Give in-flight requests a bounded time to finish, then cut what is left.
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, 10_000).unref());
    await Promise.race([closed, timeout]);
    server.closeAllConnections();
    await services.webhookWorker.stop();
    await services.files.close();
    await services.sequencer.stop();
    await services.limits.close();
  }

  return { server, services, metrics, close };
}

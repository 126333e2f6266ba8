import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { collectDefaultMetrics } from "prom-client";
import type { Env } from "../kernel/index.ts";
import { buildApp } from "./app.ts";
import { openConfiguredDatabase, prepareDatabase, printOwnerKey } from "./runtime.ts";

/** A start that cannot proceed, in one line for the operator (the CLI prints the message). */
export class StartupError extends Error {
  override name = "StartupError";
}

/**
 * Binds the port before anything is written: a first start on a busy port must fail before the
 * bootstrap creates (and prints) the owner's key, or that key is lost. Until the app takes the
 * socket over, requests get 503 (and the connection is closed, so none lingers on this server).
 */
async function reservePort(env: Env): Promise<Server> {
  const placeholder = createServer((_req, res) => {
    res.writeHead(503, { "content-type": "application/json", "retry-after": "1", connection: "close" });
    res.end('{"status":"starting"}');
  });
  await new Promise<void>((resolve, reject) => {
    placeholder.once("error", (error: NodeJS.ErrnoException) => {
      const where = `port ${env.PORT} on ${env.HOST}`;
      if (error.code === "EADDRINUSE") {
        reject(
          new StartupError(`${where} is already in use; stop what holds it or set PORT to another port`),
        );
      } else if (error.code === "EACCES") {
        reject(new StartupError(`no permission to listen on ${where}; set PORT to 1024 or above`));
      } else if (error.code === "EADDRNOTAVAIL") {
        reject(new StartupError(`cannot listen on ${where}: HOST is not an address of this machine`));
      } else {
        reject(new StartupError(`cannot listen on ${where}: ${error.message}`));
      }
    });
    placeholder.listen(env.PORT, env.HOST, () => resolve());
  });
  return placeholder;
}

/** `plugboard serve`: bind, migrate, bootstrap, serve; on SIGTERM/SIGINT drain and close. */
export async function serve(env: Env, logger: Logger): Promise<void> {
  const placeholder = await reservePort(env);
  const closePlaceholder = () => new Promise((resolve) => placeholder.close(resolve));
  let database: Awaited<ReturnType<typeof openConfiguredDatabase>>;
  let generatedToken: string | null;
  try {
    database = await openConfiguredDatabase(env);
  } catch (error) {
    await closePlaceholder();
    throw error;
  }
  try {
    ({ generatedToken } = await prepareDatabase(database, env, logger));
  } catch (error) {
    await database.close();
    await closePlaceholder();
    throw error;
  }
  const app = buildApp({ database, env, logger });
  // Process metrics (CPU, memory, event-loop delay, GC) once per process: only the served app has
  // them, not the several apps a test process builds.
  collectDefaultMetrics({ register: app.metrics.registry });
  // The app's server takes over the bound socket (listen(handle)): the port is never free between.
  await new Promise<void>((resolve) => app.server.listen(placeholder, () => resolve()));
  placeholder.closeAllConnections();
  const address = app.server.address() as AddressInfo;
  logger.info(
    { url: `http://${env.HOST}:${address.port}/graphql`, database: database.kind },
    `Plugboard is serving http://${env.HOST}:${address.port}/graphql`,
  );
  logger.flush();
  if (generatedToken) printOwnerKey(generatedToken, env);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    try {
      await app.close();
      await database.close();
      logger.info("stopped");
      logger.flush(() => process.exit(0));
    } catch (error) {
      logger.error({ err: error }, "unclean shutdown");
      logger.flush(() => process.exit(1));
    }
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { buildApp } from "./app.ts";
import type { Env } from "./env.ts";
import { openConfiguredDatabase, prepareDatabase } from "./runtime.ts";

/** `plugboard serve`: migrate, bootstrap, listen; on SIGTERM/SIGINT drain and close. */
export async function serve(env: Env, logger: Logger): Promise<void> {
  const database = await openConfiguredDatabase(env);
  try {
    await prepareDatabase(database, env, logger);
  } catch (error) {
    await database.close();
    throw error;
  }
  const app = buildApp({ database, env, logger });
  await new Promise<void>((resolve, reject) => {
    app.server.once("error", reject);
    app.server.listen(env.PORT, env.HOST, () => resolve());
  });
  const address = app.server.address() as AddressInfo;
  logger.info(
    { url: `http://${env.HOST}:${address.port}/graphql`, database: database.kind },
    `Plugboard is serving http://${env.HOST}:${address.port}/graphql`,
  );
  logger.flush();

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

import type { AddressInfo } from "node:net";
import { PassThrough } from "node:stream";
import { loadEnv } from "../../src/kernel/env.ts";
import { createLogger } from "../../src/kernel/logger.ts";
import { type App, buildApp } from "../../src/server/app.ts";
import { openDatabase } from "../../src/server/database.ts";
import { prepareDatabase } from "../../src/server/runtime.ts";
import { createTestDatabase } from "../helpers/database.ts";

export const ADMIN_TOKEN = "pbk_faults_logged_test_token_0123456789abcdefgh";

export interface LoggedApp {
  url: string;
  graphqlUrl: string;
  app: App;
  /** Every log line written so far, parsed. */
  lines(): Record<string, unknown>[];
  close(): Promise<void>;
}

/** The real app (as `startServer` builds it) with its log captured, so tests can read what it logs. */
export async function startLoggedApp(overrides: Record<string, string> = {}): Promise<LoggedApp> {
  const testDb = await createTestDatabase();
  const env = loadEnv({
    PLUGBOARD_DATA_DIR: "memory://",
    PLUGBOARD_ADMIN_TOKEN: ADMIN_TOKEN,
    PLUGBOARD_ADMIN_EMAIL: "owner@example.com",
    PLUGBOARD_LOG_LEVEL: "info",
    PORT: "0",
    ...(testDb.url ? { DATABASE_URL: testDb.url } : {}),
    ...overrides,
  });
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (chunk) => (text += chunk));
  const logger = createLogger(env.PLUGBOARD_LOG_LEVEL, stream);
  const database = await openDatabase({ url: env.DATABASE_URL, dataDir: env.PLUGBOARD_DATA_DIR });
  await prepareDatabase(database, env, logger);
  const app = buildApp({ database, env, logger });
  await new Promise<void>((resolve) => app.server.listen(0, "127.0.0.1", resolve));
  const { port } = app.server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    graphqlUrl: `${url}/graphql`,
    app,
    lines: () =>
      text
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    close: async () => {
      await app.close();
      await database.close();
      await testDb.drop();
    },
  };
}

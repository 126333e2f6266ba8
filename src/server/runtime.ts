import type { Logger } from "pino";
import { bootstrap } from "../auth/bootstrap.ts";
import { type Database, openDatabase } from "../db/client.ts";
import { migrate } from "../db/migrate.ts";
import { loadOrCreateOAuthKeys } from "../oauth/keys.ts";
import type { Env } from "./env.ts";

/** Opens the configured database (PGlite or PostgreSQL). */
export function openConfiguredDatabase(env: Env): Promise<Database> {
  return openDatabase({ url: env.DATABASE_URL, dataDir: env.PLUGBOARD_DATA_DIR });
}

/** Applies migrations and, on an empty database, the bootstrap; prints a generated key once. */
export async function prepareDatabase(database: Database, env: Env, logger: Logger): Promise<void> {
  let generatedToken: string | null = null;
  const applied = await migrate(database.db, async (tx) => {
    const result = await bootstrap(tx, env);
    if (result) {
      generatedToken = result.generatedToken;
      logger.info(
        { workspaceId: result.workspaceId, memberId: result.memberId },
        "created workspace Default",
      );
    }
  });
  if (applied > 0) logger.info({ applied }, "applied migrations");
  // The OAuth signing and cookie keys, once per database (concurrent first starts agree on one set).
  await loadOrCreateOAuthKeys(database.db);
  if (generatedToken) {
    process.stdout.write(
      [
        "",
        '  Plugboard created workspace "Default". Its owner\'s API key, shown only this once:',
        "",
        `    ${generatedToken}`,
        "",
        "  Try it:",
        `    curl -s ${env.publicUrl}/graphql -H 'Authorization: Bearer ${generatedToken}' \\`,
        `      -H 'content-type: application/json' -d '{"query":"{ viewer { member { email role } } }"}'`,
        "",
        "",
      ].join("\n"),
    );
  }
}

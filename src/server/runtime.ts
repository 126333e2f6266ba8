import type { Logger } from "pino";
import { apiKeyExists, bootstrap } from "../auth/index.ts";
import type { Database, Env } from "../kernel/index.ts";
import { migrate } from "../kernel/index.ts";
import { loadOrCreateOAuthKeys } from "../oauth/index.ts";
import { openDatabase } from "./database.ts";
import { workspaceSeeders } from "./workspaces.ts";

/** Opens the configured database (PGlite or PostgreSQL). */
export function openConfiguredDatabase(env: Env): Promise<Database> {
  return openDatabase({ url: env.DATABASE_URL, dataDir: env.PLUGBOARD_DATA_DIR });
}

export interface PreparedDatabase {
  /** The first owner's key when this call generated it: the caller shows it once (`printOwnerKey`). */
  generatedToken: string | null;
}

/** Applies migrations and, on an empty database, the bootstrap. */
export async function prepareDatabase(
  database: Database,
  env: Env,
  logger: Logger,
): Promise<PreparedDatabase> {
  let generatedToken: string | null = null;
  let bootstrapped = false;
  const applied = await migrate(database.db, async (tx) => {
    const result = await bootstrap(tx, env, workspaceSeeders);
    if (result) {
      bootstrapped = true;
      generatedToken = result.generatedToken;
      logger.info(
        { workspaceId: result.workspaceId, memberId: result.memberId },
        "created workspace Default",
      );
    }
  });
  if (applied > 0) logger.info({ applied }, "applied migrations");
  if (!bootstrapped && env.PLUGBOARD_ADMIN_TOKEN) await warnIfAdminTokenIgnored(database, env, logger);
  // The OAuth signing and cookie keys, once per database (concurrent first starts agree on one set).
  await loadOrCreateOAuthKeys(database.db);
  return { generatedToken };
}

/**
 * PLUGBOARD_ADMIN_TOKEN only applies to the first start. Set later, it adds nothing: say so, unless
 * it already is a key (the same value kept in the environment since the first start).
 */
async function warnIfAdminTokenIgnored(database: Database, env: Env, logger: Logger): Promise<void> {
  if (await apiKeyExists(database.db, env.PLUGBOARD_ADMIN_TOKEN as string)) return;
  logger.warn(
    "PLUGBOARD_ADMIN_TOKEN is ignored: the database already has a workspace, and the variable only " +
      "sets the first owner's key on an empty database. Create keys with createApiKey or " +
      "`plugboard create-api-key`.",
  );
}

/**
 * Shows a generated first-owner key once, on stderr and framed: the JSON log on stdout never
 * carries a credential, and the key stands out from it.
 */
export function printOwnerKey(token: string, env: Env): void {
  const rule = "=".repeat(78);
  process.stderr.write(
    [
      "",
      rule,
      '  Plugboard created workspace "Default". Its owner\'s API key, shown only this once:',
      "",
      `    ${token}`,
      "",
      "  Try it:",
      `    curl -s ${env.publicUrl}/graphql -H 'Authorization: Bearer ${token}' \\`,
      `      -H 'content-type: application/json' -d '{"query":"{ viewer { member { email role } } }"}'`,
      rule,
      "",
      "",
    ].join("\n"),
  );
}

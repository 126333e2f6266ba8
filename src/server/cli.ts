import { parseArgs } from "node:util";
import { GraphQLError } from "graphql";
import type { Logger } from "pino";
import { scopes as allScopes, findActiveMember, issueApiKey, type Scope } from "../auth/index.ts";
import { ConfigError, createLogger, type Env, loadEnv, migrate } from "../kernel/index.ts";
import { serve } from "./main.ts";
import { openConfiguredDatabase, prepareDatabase, printOwnerKey } from "./runtime.ts";
import { createWorkspace } from "./workspaces.ts";

const usage = `Usage: plugboard <command> [options]

Commands:
  serve                                   migrate, bootstrap and serve the API (what npm start runs)
  migrate                                 apply database migrations and exit
  create-workspace --name N --owner-email E [--owner-name M]
                                          create a workspace and its OWNER; prints JSON
                                          { "workspaceId", "memberId", "token" }
  create-api-key --member-id M [--name N] [--scopes READ,WRITE] [--expires-at ISO]
                                          issue an API key for a member (--scopes may repeat;
                                          default: every scope of the member's role); prints JSON
                                          { "apiKeyId", "memberId", "workspaceId", "token" }

Configuration is read from environment variables; see README.md.`;

class UsageError extends Error {}

function required(values: Record<string, unknown>, name: string): string {
  const value = values[name];
  if (typeof value !== "string" || value.trim() === "") throw new UsageError(`--${name} is required`);
  return value.trim();
}

async function withDatabase<T>(
  env: Env,
  run: (db: Awaited<ReturnType<typeof openConfiguredDatabase>>) => Promise<T>,
) {
  const database = await openConfiguredDatabase(env);
  try {
    return await run(database);
  } finally {
    await database.close();
  }
}

/** Migrates and bootstraps for a one-off command; a key generated on the way is shown, apart from its JSON. */
async function prepareForCommand(
  database: Awaited<ReturnType<typeof openConfiguredDatabase>>,
  env: Env,
  logger: Logger,
) {
  const { generatedToken } = await prepareDatabase(database, env, logger);
  if (generatedToken) printOwnerKey(generatedToken, env);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  // No command is a question, not a request to serve: a bare `npx plugboard` prints how to use it.
  if (command === undefined) throw new UsageError("no command given");
  if (command === "--help" || command === "-h" || command === "help") {
    console.log(usage);
    return;
  }
  const env = loadEnv();
  const logger = createLogger(command === "serve" ? env.PLUGBOARD_LOG_LEVEL : "warn");

  switch (command) {
    case "serve":
      await serve(env, logger);
      return;
    case "migrate":
      await withDatabase(env, async ({ db }) => {
        const applied = await migrate(db);
        console.log(JSON.stringify({ applied }));
      });
      return;
    case "create-workspace": {
      const { values } = parseArgs({
        args: rest,
        options: {
          name: { type: "string" },
          "owner-email": { type: "string" },
          "owner-name": { type: "string" },
        },
      });
      const name = required(values, "name");
      const ownerEmail = required(values, "owner-email");
      if (!/^[^\s@]+@[^\s@]+$/.test(ownerEmail))
        throw new UsageError(`--owner-email ${ownerEmail} is not an email`);
      const created = await withDatabase(env, async (database) => {
        await prepareForCommand(database, env, logger);
        return createWorkspace(database.db, { name, ownerEmail, ownerName: values["owner-name"] ?? null });
      });
      console.log(JSON.stringify(created));
      return;
    }
    case "create-api-key": {
      const { values } = parseArgs({
        args: rest,
        options: {
          "member-id": { type: "string" },
          name: { type: "string" },
          scopes: { type: "string", multiple: true },
          "expires-at": { type: "string" },
        },
      });
      const memberId = required(values, "member-id");
      // `--scopes READ --scopes WRITE` and `--scopes READ,WRITE` mean the same.
      const requested = values.scopes
        ?.flatMap((list) => list.split(","))
        .map((s) => s.trim().toUpperCase())
        .filter((s) => s !== "");
      const bad = requested?.filter((s) => !(allScopes as readonly string[]).includes(s));
      if (bad?.length) throw new UsageError(`--scopes: unknown scope ${bad.join(", ")} (READ, WRITE, ADMIN)`);
      const expiresAt = values["expires-at"] ? new Date(values["expires-at"]) : null;
      if (expiresAt && Number.isNaN(expiresAt.getTime()))
        throw new UsageError("--expires-at must be ISO 8601");
      const result = await withDatabase(env, async (database) => {
        await prepareForCommand(database, env, logger);
        const member = await findActiveMember(database.db, memberId);
        if (!member) throw new UsageError(`no member with id ${memberId}`);
        // The operator holds every scope; the key gets what the API would give its member.
        const { apiKey, token } = await issueApiKey(
          database.db,
          member,
          { name: values.name ?? "CLI key", scopes: requested as Scope[] | undefined, expiresAt },
          allScopes,
        ).catch((error: unknown) => {
          if (error instanceof GraphQLError) throw new UsageError(error.message);
          throw error;
        });
        return { apiKeyId: apiKey.id, memberId, workspaceId: member.workspaceId, token };
      });
      console.log(JSON.stringify(result));
      return;
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(78);
  }
  if (error instanceof UsageError) {
    console.error(`plugboard: ${error.message}\n\n${usage}`);
    process.exit(64);
  }
  console.error(`plugboard: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

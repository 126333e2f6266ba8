import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { Database } from "../../src/kernel/db.ts";
import { type Env, loadEnv } from "../../src/kernel/env.ts";
import { createLogger } from "../../src/kernel/logger.ts";
import { type App, buildApp } from "../../src/server/app.ts";
import { openDatabase } from "../../src/server/database.ts";
import { prepareDatabase } from "../../src/server/runtime.ts";
import { createWorkspace } from "../../src/server/workspaces.ts";
import { createTestDatabase, type TestDatabase } from "./database.ts";

export interface Tenant {
  workspaceId: string;
  memberId: string;
  token: string;
}

export interface TestServer {
  url: string;
  graphqlUrl: string;
  wsUrl: string;
  env: Env;
  app: App;
  database: Database;
  /** The bootstrap workspace "Default" and its owner. */
  owner: Tenant;
  /** How many SQL statements the server has sent so far, not counting background work. */
  statements(): number;
  /** A new workspace with its owner, as `plugboard create-workspace` makes one. */
  createTenant(name?: string): Promise<Tenant>;
  close(): Promise<void>;
}

/** Starts the real app on port 0 over a fresh database (PGlite in memory, or a PostgreSQL clone). */
export async function startServer(
  overrides: Record<string, string> = {},
  options: { onQuery?: (query: string, params: unknown[]) => void } = {},
): Promise<TestServer> {
  const testDb: TestDatabase = await createTestDatabase();
  const adminToken = `pbk_test_${randomBytes(24).toString("base64url")}`;
  const env = loadEnv({
    PLUGBOARD_DATA_DIR: "memory://",
    PLUGBOARD_ADMIN_TOKEN: adminToken,
    PLUGBOARD_ADMIN_EMAIL: "owner@example.com",
    PLUGBOARD_LOG_LEVEL: process.env.PLUGBOARD_TEST_LOG_LEVEL ?? "silent",
    PORT: "0",
    ...(testDb.url ? { DATABASE_URL: testDb.url } : {}),
    ...overrides,
  });
  const logger = createLogger(env.PLUGBOARD_LOG_LEVEL);
  let statements = 0;
  const database = await openDatabase({
    url: env.DATABASE_URL,
    dataDir: env.PLUGBOARD_DATA_DIR,
    memoryImage: testDb.image,
    onQuery: (query, params) => {
      options.onQuery?.(query, params);
      // The sequencer's sweep, last-used bookkeeping and the rate limiter's sync (limits/syncedStore.ts,
      // every 250 ms on PostgreSQL) run on their own clocks.
      if (!/c\.seq is null|last_used_at = now\(\)|input as \(select \* from unnest/.test(query)) statements++;
    },
  });
  await prepareDatabase(database, env, logger);
  const app = buildApp({ database, env, logger });
  await new Promise<void>((resolve) => app.server.listen(0, "127.0.0.1", resolve));
  const { port } = app.server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const [owner] = await database.db.query.members.findMany({
    where: (m, { eq }) => eq(m.email, "owner@example.com"),
  });
  if (!owner) throw new Error("bootstrap did not create the owner");
  let tenants = 0;
  return {
    url,
    graphqlUrl: `${url}/graphql`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    env,
    app,
    database,
    owner: { workspaceId: owner.workspaceId, memberId: owner.id, token: adminToken },
    statements: () => statements,
    createTenant: (name = `Tenant ${++tenants}`) =>
      createWorkspace(database.db, { name, ownerEmail: `owner${tenants}@tenant.example` }),
    close: async () => {
      await app.close();
      await database.close();
      await testDb.drop();
    },
  };
}

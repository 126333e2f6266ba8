import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/kernel/logger.ts";
import { Sequencer } from "../../src/ledger/sequencer.ts";
import { openDatabase } from "../../src/server/database.ts";
import { Notifier } from "../../src/subscriptions/notifier.ts";
import { createTestDatabase } from "../helpers/database.ts";
import { freePort, type ServeProcess, startServeProcess } from "../helpers/process.ts";
import { until } from "../helpers/subscriptions.ts";

const onPostgres = process.env.PLUGBOARD_TEST_DB === "postgres";
const TOKEN = "pbk_faults_test_token_long_enough_0123456789abcdef";

const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
});

const CREATE = `mutation ($values: JSON) { createResource(input: { type: "contact", values: $values }) { resource { id } } }`;

/** One createResource over HTTP: the id when acknowledged, else the HTTP status and error code. */
async function create(url: string, name: string): Promise<{ id?: string; status: number; code?: unknown }> {
  try {
    const response = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ query: CREATE, variables: { values: { name, email: `${name}@example.com` } } }),
      signal: AbortSignal.timeout(15_000),
    });
    const body = (await response.json()) as {
      data?: { createResource?: { resource: { id: string } } | null } | null;
      errors?: { extensions?: { code?: unknown } }[];
    };
    const id = body.data?.createResource?.resource.id;
    return { status: response.status, ...(id ? { id } : {}), code: body.errors?.[0]?.extensions?.code };
  } catch (error) {
    // A request left unanswered is as bad as a dropped connection.
    if ((error as Error).name === "TimeoutError") return { status: -1 };
    return { status: 0 }; // the connection failed: the process is gone
  }
}

/** A `plugboard serve` process on a fresh database, and an admin connection to terminate its backends. */
async function serveOnFreshDatabase(): Promise<{
  server: ServeProcess;
  admin: postgres.Sql;
  database: string;
  url: string;
}> {
  const testDb = await createTestDatabase();
  cleanup.push(() => testDb.drop());
  const server = await startServeProcess(freePort(), {
    DATABASE_URL: testDb.url as string,
    PLUGBOARD_ADMIN_TOKEN: TOKEN,
    PLUGBOARD_LOG_LEVEL: "warn",
  });
  cleanup.push(() => server.stop());
  const admin = postgres(process.env.TEST_DATABASE_URL as string, { max: 1, onnotice: () => {} });
  cleanup.push(() => admin.end());
  const url = testDb.url as string;
  return { server, admin, database: new URL(url).pathname.slice(1), url };
}

describe.skipIf(!onPostgres)("PostgreSQL terminating the server's connections under load", () => {
  it("keeps serving, fails only the affected requests, and loses or duplicates no acknowledged write", async () => {
    const { server, admin, database, url } = await serveOnFreshDatabase();

    const acknowledged: string[] = [];
    const failures: { status: number; code?: unknown }[] = [];
    let writing = true;
    let n = 0;
    const writer = async () => {
      while (writing) {
        const result = await create(server.url, `w${n++}`);
        if (result.id) acknowledged.push(result.id);
        else failures.push(result);
        if (result.status <= 0) return;
      }
    };
    const writers = Array.from({ length: 8 }, writer);
    for (let round = 0; round < 4; round++) {
      await new Promise((resolve) => setTimeout(resolve, 400));
      await admin`select pg_terminate_backend(pid) from pg_stat_activity
                  where datname = ${database} and pid <> pg_backend_pid()`;
    }
    await new Promise((resolve) => setTimeout(resolve, 400));
    writing = false;
    await Promise.all(writers);

    expect(server.child.exitCode, server.output()).toBeNull();
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    // Failed requests failed cleanly: a 5xx or a GraphQL INTERNAL_SERVER_ERROR, never a dropped socket.
    for (const failure of failures) {
      expect(failure.status, server.output()).toBeGreaterThan(0);
      if (failure.status < 500) expect(failure.code).toBe("INTERNAL_SERVER_ERROR");
    }
    expect(acknowledged.length).toBeGreaterThan(20);
    // The server reconnects: later writes succeed, and it is ready again.
    const after = await create(server.url, "after");
    expect(after.id, JSON.stringify(after)).toBeTruthy();
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    acknowledged.push(after.id as string);

    // Every acknowledged write is there exactly once, with exactly one CREATED change. (Whether the
    // sequencer has numbered them yet depends on the oldest transaction anywhere in the cluster.)
    const check = postgres(url, { max: 1, onnotice: () => {} });
    try {
      expect(new Set(acknowledged).size).toBe(acknowledged.length);
      const found = await check<{ id: string }[]>`select id from resources where id = any(${acknowledged})`;
      expect(found.length).toBe(acknowledged.length);
      const changes = await check<{ resource_id: string; n: number }[]>`
        select resource_id, count(*)::int as n from changes
        where kind = 'CREATED' and resource_id = any(${acknowledged}) group by resource_id`;
      expect(changes.length).toBe(acknowledged.length);
      for (const row of changes) expect(row.n).toBe(1);
    } finally {
      await check.end();
    }
  }, 90_000);

  it("answers 503 on /readyz while the database refuses connections, then recovers", async () => {
    const { server, admin, database } = await serveOnFreshDatabase();
    expect((await create(server.url, "before")).id).toBeTruthy();

    await admin.unsafe(`alter database ${database} with allow_connections false`);
    cleanup.push(() => admin.unsafe(`alter database ${database} with allow_connections true`));
    await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${database}`;
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: "unavailable" });
    const refused = await create(server.url, "refused");
    expect(refused.id).toBeUndefined();
    expect(refused.status).not.toBe(0);
    if (refused.status < 500) expect(refused.code).toBe("INTERNAL_SERVER_ERROR");

    await admin.unsafe(`alter database ${database} with allow_connections true`);
    const deadline = Date.now() + 20_000;
    while ((await fetch(`${server.url}/readyz`)).status !== 200) {
      expect(Date.now(), "ready again").toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const after = await create(server.url, "after");
    if (!after.id) {
      await new Promise((resolve) => setTimeout(resolve, 1000)); // the log is flushed every 500 ms
      throw new Error(`${JSON.stringify(after)}\n${server.output()}`);
    }
    expect(server.child.exitCode, server.output()).toBeNull();
  }, 60_000);

  it("LISTENs again after its connection is terminated", async () => {
    const testDb = await createTestDatabase();
    cleanup.push(() => testDb.drop());
    const logger = createLogger("silent");
    const listener = await openDatabase({ url: testDb.url, dataDir: "memory://", maxConnections: 2 });
    cleanup.push(() => listener.close());
    const notifier = new Notifier(new Sequencer(listener.db, logger), listener.listen, logger);
    await notifier.start();
    cleanup.push(() => notifier.stop());
    const admin = postgres(process.env.TEST_DATABASE_URL as string, { max: 1, onnotice: () => {} });
    cleanup.push(() => admin.end());
    const database = new URL(testDb.url as string).pathname.slice(1);
    const listening = () =>
      admin<{ n: number }[]>`select count(*)::int as n from pg_stat_activity
                             where datname = ${database} and query like 'listen %'`;
    expect((await listening())[0]?.n).toBe(1);
    await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${database}`;

    // Only LISTEN can tell this notifier about a head (it has no poll): keep notifying until heard.
    const notify = postgres(testDb.url as string, { max: 1, onnotice: () => {} });
    cleanup.push(() => notify.end());
    let head = 0;
    const deadline = Date.now() + 15_000;
    while (notifier.head("ws_elsewhere") === 0) {
      expect(Date.now(), "the NOTIFY after reconnecting").toBeLessThan(deadline);
      await notify`select pg_notify('plugboard_changes', ${JSON.stringify({ w: "ws_elsewhere", h: ++head })})`;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await until(() => notifier.head("ws_elsewhere") > 0, "a head");
  });
});

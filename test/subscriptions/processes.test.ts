import { afterAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/kernel/logger.ts";
import { Sequencer } from "../../src/ledger/sequencer.ts";
import { openDatabase } from "../../src/server/database.ts";
import { Notifier } from "../../src/subscriptions/notifier.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { freePort, type ServeProcess, startServeProcess } from "../helpers/process.ts";
import { createContact, feedIds, subscribeWs, until, updateContact } from "../helpers/subscriptions.ts";

const onPostgres = process.env.PLUGBOARD_TEST_DB === "postgres";
const TOKEN = "pbk_subscriptions_test_token_long_enough_0123456789";

const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
});

describe.skipIf(!onPostgres)("subscriptions across processes on one PostgreSQL", () => {
  it("wakes a notifier in one process on a NOTIFY from another connection", async () => {
    const testDb: TestDatabase = await createTestDatabase();
    cleanup.push(() => testDb.drop());
    const logger = createLogger("silent");
    const listener = await openDatabase({ url: testDb.url, dataDir: "memory://", maxConnections: 2 });
    const writer = await openDatabase({ url: testDb.url, dataDir: "memory://", maxConnections: 1 });
    cleanup.push(
      () => listener.close(),
      () => writer.close(),
    );
    // This process's sequencer never runs: only LISTEN can tell the notifier about the head.
    const notifier = new Notifier(new Sequencer(listener.db, logger), listener.listen, logger);
    await notifier.start();
    cleanup.push(() => notifier.stop());
    const woken: string[] = [];
    notifier.subscribe("ws_elsewhere", { wake: () => woken.push("ws_elsewhere") });
    const { sql } = await import("drizzle-orm");
    await writer.db.execute(sql`select pg_notify('plugboard_changes', '{"w":"ws_elsewhere","h":7}')`);
    await until(() => notifier.head("ws_elsewhere") === 7, "the NOTIFY to arrive");
    expect(woken).toEqual(["ws_elsewhere"]);
  });

  it("delivers writes made through process B to a subscriber on process A", async () => {
    const testDb = await createTestDatabase();
    cleanup.push(() => testDb.drop());
    const env = {
      DATABASE_URL: testDb.url as string,
      PLUGBOARD_ADMIN_TOKEN: TOKEN,
      PLUGBOARD_LOG_LEVEL: "warn",
    };
    const a: ServeProcess = await startServeProcess(freePort(), env);
    cleanup.push(() => a.stop());
    const b: ServeProcess = await startServeProcess(freePort(), env);
    cleanup.push(() => b.stop());
    const subscription = subscribeWs(`${a.url.replace("http", "ws")}/graphql`, TOKEN);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const id = await createContact(`${b.url}/graphql`, TOKEN, "Across Processes");
    await updateContact(`${b.url}/graphql`, TOKEN, id, { title: "Via B" });
    await updateContact(`${a.url}/graphql`, TOKEN, id, { title: "Via A" });
    const received = await subscription.waitFor(3);
    expect(subscription.errors).toEqual([]);
    expect(received.map((c) => [c.kind, c.resourceId])).toEqual([
      ["CREATED", id],
      ["UPDATED", id],
      ["UPDATED", id],
    ]);
    expect(received.map((c) => c.id)).toEqual(await feedIds(`${a.url}/graphql`, TOKEN));
    await subscription.dispose();
  });

  it("completes open subscriptions when a process shuts down", async () => {
    const testDb = await createTestDatabase();
    cleanup.push(() => testDb.drop());
    const env = { DATABASE_URL: testDb.url as string, PLUGBOARD_ADMIN_TOKEN: TOKEN };
    const server = await startServeProcess(freePort(), env);
    const subscription = subscribeWs(`${server.url.replace("http", "ws")}/graphql`, TOKEN);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await server.stop("SIGTERM")).toBe(0);
    await until(subscription.completed, "the subscription to complete");
    expect(subscription.errors).toEqual([]);
  });
});

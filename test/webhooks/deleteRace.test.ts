import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gql } from "../helpers/graphql.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { createContact, createWebhook } from "./ops.ts";
import { Receiver, sleep } from "./receiver.ts";

/**
 * Deleting a webhook while its worker records an attempt. The delete locks the webhook's row and
 * then, by cascade, its deliveries'; recording an attempt once locked the delivery's row first and
 * the webhook's second, so the two deadlocked and the delete answered INTERNAL_SERVER_ERROR after
 * PostgreSQL's one-second deadlock check. The test lines them up: a third session holds the
 * webhook's row while the delete, then the worker, queue for it. PostgreSQL only (PGlite runs one
 * statement at a time).
 */
const onPostgres = process.env.PLUGBOARD_TEST_DB === "postgres";
let server: TestServer;
let receiver: Receiver;
let release: () => void = () => {};
beforeAll(async () => {
  server = await startServer({ PLUGBOARD_WEBHOOK_ALLOW_PRIVATE: "true" });
  // Holds its answer until the test releases it, so the attempt is recorded when the test says.
  receiver = await Receiver.start(() => new Promise<number>((resolve) => (release = () => resolve(200))));
});
afterAll(async () => {
  release();
  await server?.close();
  await receiver?.close();
});

/** Sessions of this database waiting for a lock, by the start of their statement. */
async function waitingOn(admin: postgres.Sql, prefix: string): Promise<boolean> {
  const rows = await admin`select query from pg_stat_activity
    where datname = current_database() and wait_event_type = 'Lock'`;
  return rows.some((row) => String(row.query).trimStart().startsWith(prefix));
}

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe.runIf(onPostgres)("deleting a webhook while an attempt is being recorded", () => {
  it("waits for the attempt instead of deadlocking", async () => {
    const token = server.owner.token;
    const hook = await createWebhook(server.graphqlUrl, token, { url: receiver.url });
    receiver.secrets = [hook.secret];
    await createContact(server.graphqlUrl, token, { name: "Ada" });
    await until(async () => receiver.received.length > 0, "the delivery to arrive");

    const admin = postgres(server.env.DATABASE_URL as string, { max: 2, onnotice: () => {} });
    try {
      const holder = await admin.reserve();
      await holder`begin`;
      await holder`select 1 from webhooks where id = ${hook.id} for no key update`;
      const deleting = gql(
        server.graphqlUrl,
        `mutation($id: ID!) { deleteWebhook(input: { id: $id }) { deletedId } }`,
        { id: hook.id },
        { token },
      );
      await until(() => waitingOn(admin, "delete from"), "the delete to queue for the webhook");
      release(); // the worker now records its attempt, and queues behind the delete
      await until(
        async () =>
          (await waitingOn(admin, "with d as")) || (await waitingOn(admin, "select 1 from webhooks")),
        "the worker to queue for the webhook",
      );
      await holder`commit`;
      holder.release();
      const deleted = await deleting;
      expect(deleted.errors, JSON.stringify(deleted.errors)).toBeUndefined();
      expect((deleted.data as { deleteWebhook: { deletedId: string } }).deleteWebhook.deletedId).toBe(
        hook.id,
      );
    } finally {
      await admin.end();
    }
  }, 30_000);
});

describe.skipIf(onPostgres)("deleting a webhook while an attempt is being recorded", () => {
  it.skip("runs on PostgreSQL only: PGlite runs one statement at a time", () => {});
});

import { sql } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { queryRows } from "../../src/kernel/db.ts";
import { newId } from "../../src/kernel/ids.ts";
import { commitWrites } from "../../src/ledger/writePath.ts";
import { api } from "../helpers/api.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

/**
 * A write's response does not wait for its change to be numbered; the feed's readers do. Here the
 * sweep is stopped and the change is committed through the write path as another process would
 * (nothing here numbers it): the next feed read, webhook or subscription start must still see it.
 */
let server: TestServer;
beforeAll(async () => {
  server = await startServer({ PLUGBOARD_WEBHOOK_ALLOW_PRIVATE: "true" });
  await server.app.services.sequencer.stop(); // no sweep: only a reader's settle numbers changes
});
afterAll(async () => {
  await server?.close();
});

async function commitUnnumbered(name: string): Promise<string> {
  const services = server.app.services;
  const catalog = await services.catalogs.get(server.owner.workspaceId);
  const type = catalog.typesByKey.get("task");
  if (!type) throw new Error("no task type");
  const actor = await services.auth.authenticateToken(server.owner.token);
  const id = newId("resource");
  await server.database.db.transaction((tx) =>
    commitWrites(tx, actor, catalog, [
      { kind: "create", type, id, state: { name, parentId: null, assigneeId: null, values: {} } },
    ]),
  );
  return id;
}

it("Query.changes numbers what is committed before it reads: a client reads its own writes", async () => {
  const owner = api(server, server.owner.token);
  const { headCursor } = (await owner.ok("{ changes(first: 0) { headCursor } }")).changes;
  const id = await commitUnnumbered("read me");
  const page = await owner.ok(`query($after: String) { changes(after: $after) { nodes { resourceId } } }`, {
    after: headCursor,
  });
  expect(page.changes.nodes.map((n: { resourceId: string }) => n.resourceId)).toEqual([id]);
});

it("a webhook created after a write starts after that write's change", async () => {
  const owner = api(server, server.owner.token);
  await commitUnnumbered("before the webhook");
  const { createWebhook } = await owner.ok(
    `mutation { createWebhook(input: { url: "http://127.0.0.1:9/hook" }) { webhook { id } } }`,
  );
  const [webhook] = await queryRows<{ cursor: string }>(
    server.database.db,
    sql`select cursor::text from webhooks where id = ${createWebhook.webhook.id}`,
  );
  const [feed] = await queryRows<{ head: string }>(
    server.database.db,
    sql`select head::text from change_feeds where workspace_id = ${server.owner.workspaceId}`,
  );
  expect(feed?.head).not.toBe("0");
  expect(webhook?.cursor).toBe(feed?.head);
});

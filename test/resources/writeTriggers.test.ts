import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Db, queryRows, queryTuples } from "../../src/kernel/db.ts";
import { type Api, api, createResource, UPDATE } from "../helpers/api.ts";
import { inRolledBackTransaction, testDbKind } from "../helpers/database.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

// `resource_string_values` is kept by triggers on `resources` (drizzle/0009, 0013). The update
// trigger ran per statement with both transition tables captured: a soft delete or a restore,
// which never changes `values`, paid for copying its row twice and for two empty statements
// (pgbench, the delete statement alternated with each trigger: 7,100-8,300 a second, 11,200-11,700
// with the per-row trigger). PostgreSQL only: the counters are its statistics (like
// resources/writeIndexes.test.ts).
const CHANGED_TRIGGER = "plugboard_string_values_changed";

let server: TestServer;
let owner: Api;
let captured: { text: string; params: unknown[] }[] | null = null;

describe.skipIf(testDbKind !== "postgres")("the string-values trigger", () => {
  beforeAll(async () => {
    server = await startServer({}, { onQuery: (text, params) => captured?.push({ text, params }) });
    owner = api(server, server.owner.token);
  });
  afterAll(() => server?.close());

  /** The write statement (`with written as (update resources …`) a mutation sends. */
  async function writeOf(mutation: () => Promise<unknown>): Promise<{ text: string; params: unknown[] }> {
    captured = [];
    await mutation();
    const write = captured.find(({ text }) => /^with written as \(update resources/.test(text));
    captured = null;
    expect(write).toBeDefined();
    return write as { text: string; params: unknown[] };
  }

  /** How many times the statement runs the update trigger, replayed in a rolled-back transaction. */
  async function triggerCalls({ text, params }: { text: string; params: unknown[] }): Promise<number> {
    const calls = async (tx: Db) => {
      const [row] = await queryRows<{ calls: number }>(
        tx,
        sql`select coalesce(pg_stat_get_xact_function_calls(${CHANGED_TRIGGER}::regproc::oid), 0)::int as calls`,
      );
      return row?.calls ?? 0;
    };
    return inRolledBackTransaction(server.database.db, async (tx) => {
      await queryRows(tx, sql`set local track_functions = 'pl'`);
      const before = await calls(tx);
      await queryTuples(tx, { text, params }, (row) => row);
      return (await calls(tx)) - before;
    });
  }

  it("runs for a write of values, not for a soft delete or a restore", async () => {
    const ada = await createResource(owner, "contact", { name: "Ada", email: "ada@example.com" });
    const bob = await createResource(owner, "contact", { name: "Bob", email: "bob@example.com" });
    const update = await writeOf(() =>
      owner.ok(UPDATE, { id: ada.id, values: { email: "ada@lovelace.org" } }),
    );
    const remove = await writeOf(() =>
      owner.ok(`mutation($id: ID!) { deleteResource(input: { id: $id }) { deletedId } }`, { id: ada.id }),
    );
    const restore = await writeOf(() =>
      owner.ok(`mutation($id: ID!) { restoreResource(input: { id: $id }) { resource { id } } }`, {
        id: ada.id,
      }),
    );
    // Replayed on Bob (the statement's first parameter is the row's id), whose values it changes:
    // the counter counts this trigger.
    expect(await triggerCalls({ ...update, params: [bob.id, ...update.params.slice(1)] })).toBe(1);
    expect(await triggerCalls(remove)).toBe(0);
    expect(await triggerCalls(restore)).toBe(0);
  });
});

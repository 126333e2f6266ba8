import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, PLANNED_PER_EXECUTION, queryTuples } from "../../src/kernel/db.ts";
import { openDatabase } from "../../src/server/database.ts";
import { createTestDatabase, type TestDatabase, testDbKind } from "../helpers/database.ts";

// A statement led by PLANNED_PER_EXECUTION (a filtered listing) must be planned for its values on
// every execution; outside a transaction it should still be parsed once per connection, not on
// every request. The statement reports on itself: the session's plan_cache_mode, and whether it
// runs as a prepared statement (a named one is in pg_prepared_statements, the unnamed one is not).
const SELF_REPORT = `${PLANNED_PER_EXECUTION}select current_setting('plan_cache_mode'),
  exists (select 1 from pg_prepared_statements where statement = current_query()) and $1::int = 1`;

let database: TestDatabase;
let opened: Database;

beforeAll(async () => {
  if (testDbKind !== "postgres") return; // the sessions under test are PostgreSQL's
  database = await createTestDatabase();
  opened = await openDatabase({ url: database.url, dataDir: "memory://" });
});
afterAll(async () => {
  await opened?.close();
  await database?.drop();
});

describe.skipIf(testDbKind !== "postgres")("statements planned per execution", () => {
  it("run prepared, in sessions that never use a generic plan", async () => {
    for (let i = 0; i < 8; i++) {
      const [report] = await queryTuples(opened.db, { text: SELF_REPORT, params: [1] }, (row) => row);
      expect(report).toEqual(["force_custom_plan", true]);
    }
  });

  it("run unprepared inside a transaction, on its connection", async () => {
    const report = await opened.db.transaction((tx) =>
      queryTuples(tx, { text: SELF_REPORT, params: [1] }, (row) => row),
    );
    expect(report).toEqual([["auto", false]]);
  });

  it("leave other statements on the shared plan cache", async () => {
    const text = SELF_REPORT.slice(PLANNED_PER_EXECUTION.length);
    const [report] = await queryTuples(opened.db, { text, params: [1] }, (row) => row);
    expect(report).toEqual(["auto", true]);
  });
});

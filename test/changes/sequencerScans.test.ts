import { sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/kernel/db.ts";
import { testDbKind } from "../helpers/database.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

// Numbering a change leaves the index entry of its unnumbered version (`changes_unsequenced`) in
// place until VACUUM removes it: PGlite never vacuums, and autovacuum waits for a fifth of the
// table to be dead. A lookup of what is still unnumbered that starts at the beginning of the
// workspace's entries reads every change numbered since the last VACUUM: ~500 index pages for
// each numbering pass and each feed read's wait after a burst of 60,000 (an import, a long
// transaction holding numbering back). They must start where the last pass left off.
// PostgreSQL only (the statements are the same on PGlite).
const NUMBERED = 60_000;
/** Index pages a lookup may read: a descent and the few entries numbered since the last pass. */
const PAGES = 8;

let server: TestServer;
let reader: postgres.Sql;
let captured: { text: string; params: unknown[] }[] | null = null;

/** Change rows as the write path appends them, committed in one transaction. */
const insertChanges = (count: number) =>
  server.database.db.execute(sql`insert into changes
      (workspace_id, kind, resource_type_id, resource_type_key, resource_id, actor, fields, snapshot, version)
    select ${server.owner.workspaceId}, 'CREATED', 'typ_x', 'task', 'res_' || g, '{"kind":"system"}', '[]', '{}', 1
    from generate_series(1, ${count}) g`);
const unnumbered = async () =>
  (
    await queryRows<{ n: number }>(
      server.database.db,
      sql`select count(*)::int as n from changes where seq is null`,
    )
  )[0]?.n;

describe.skipIf(testDbKind !== "postgres")("looking for unnumbered changes after many were numbered", () => {
  beforeAll(async () => {
    server = await startServer({}, { onQuery: (text, params) => captured?.push({ text, params }) });
    await server.database.db.execute(sql`alter table changes set (autovacuum_enabled = false)`);
    await insertChanges(NUMBERED);
    await server.app.services.sequencer.settle(server.owner.workspaceId); // 12 full batches of 5,000
    expect(await unnumbered()).toBe(0);
    reader = postgres(server.env.DATABASE_URL as string, { max: 1, onnotice: () => {} });
  }, 120_000);
  afterAll(async () => {
    await reader?.end();
    await server?.close();
  });

  /** How many pages of `changes_unsequenced` a statement reads (in a transaction rolled back). */
  async function indexPagesRead(text: string, params: unknown[]): Promise<number> {
    // One connection (max: 1). The counter is the backend's, not yet reported: read it around the statement.
    const counter = async () =>
      (await reader`select pg_stat_get_xact_blocks_fetched('changes_unsequenced'::regclass)::int as pages`)[0]
        ?.pages as number;
    await reader`begin`;
    try {
      const before = await counter();
      await reader.unsafe(text, params as postgres.ParameterOrJSON<never>[]);
      return (await counter()) - before;
    } finally {
      await reader`rollback`;
    }
  }

  /** The wait's and the passes' statements a `settle` sends, each with the pages it reads. */
  async function settleReads(): Promise<Record<string, number>> {
    captured = [];
    await server.app.services.sequencer.settle(server.owner.workspaceId);
    const statements = captured.filter(({ text }) => /^select max\(id\)|plugboard_sequence\(/.test(text));
    captured = null;
    const pages: Record<string, number> = {};
    for (const { text, params } of statements) pages[text] ??= await indexPagesRead(text, params);
    return pages;
  }

  it("after the burst, a feed read's wait reads a few index pages", async () => {
    const pages = await settleReads();
    expect(Object.keys(pages)).toHaveLength(1); // nothing waits: no pass
    expect(Object.entries(pages).filter(([, read]) => read > PAGES)).toEqual([]);
  });

  it("the next change's numbering pass and the wait for it read a few index pages", async () => {
    await insertChanges(1);
    const pages = await settleReads();
    expect(Object.keys(pages)).toHaveLength(2);
    expect(Object.entries(pages).filter(([, read]) => read > PAGES)).toEqual([]);
  });

  // The sweep (every 200 ms in every process) and the feed's lag (each /metrics scrape) look at
  // every workspace. One read of the whole index read the entries of every change numbered since
  // the last VACUUM, each time — and without planner statistics (PGlite never gathers them) as a
  // bitmap scan that visited the heap page of every one: 17 ms a sweep after 48,000 creates.
  it("the sweep and the feed's lag read a few index pages per workspace", async () => {
    captured = [];
    await new Promise((resolve) => setTimeout(resolve, 500)); // a sweep or two
    const lag = await server.app.services.sequencer.lag();
    const statements = captured.filter(
      ({ text }) => /seq is null/.test(text) && !/max\(id\)|plugboard_sequence\(/.test(text),
    );
    captured = null;
    const pages: Record<string, number> = {};
    for (const { text, params } of statements) pages[text] ??= await indexPagesRead(text, params);
    expect(Object.keys(pages)).toHaveLength(2); // the sweep's statement and lag's
    const [workspaces] = await reader<{ n: number }[]>`select count(*)::int as n from change_feeds`;
    const bound = PAGES + 3 * (workspaces?.n ?? 0);
    expect(Object.entries(pages).filter(([, read]) => read > bound)).toEqual([]);
    expect(lag).toEqual({ pending: 0, oldestSeconds: 0 });
  });

  it("the sweep numbers a change nobody kicked (committed as another process would)", async () => {
    await insertChanges(1);
    for (let i = 0; i < 50 && (await unnumbered()) !== 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await unnumbered()).toBe(0);
  });

  // The pass's horizon is the oldest running transaction's xid, and the next pass starts there: a
  // transaction still running at that xid must be looked for again (from it, not past it).
  it("a change of a transaction running during a pass is numbered after it commits", async () => {
    const { sequencer } = server.app.services;
    const workspaceId = server.owner.workspaceId;
    await sequencer.stop(); // no sweep: only the passes below number anything
    await insertChanges(1);
    const writer = await reader.reserve();
    try {
      await writer`begin`;
      const [early] =
        await writer`insert into changes (workspace_id, kind, resource_type_id, resource_type_key,
          resource_id, actor, fields, snapshot, version)
        values (${workspaceId}, 'CREATED', 'typ_x', 'task', 'res_running', '{"kind":"system"}', '[]', '{}', 1)
        returning xid::text`;
      expect(await sequencer.sequence(workspaceId)).toBe(1); // the committed one; the running one waits
      const [feed] = await queryRows<{ below: string }>(
        server.database.db,
        sql`select numbered_through_xid::text as below from change_feeds where workspace_id = ${workspaceId}`,
      );
      expect(feed?.below).toBe(early?.xid);
      await writer`commit`;
    } finally {
      writer.release();
    }
    await sequencer.settle(workspaceId);
    expect(await unnumbered()).toBe(0);
  });
});

import { EventEmitter } from "node:events";
import { sql } from "drizzle-orm";
import type { Logger } from "pino";
import { type Db, queryRows } from "../kernel/index.ts";

/** How many committed change rows one sequencer pass numbers at most. */
const BATCH = 5_000;
/** The safety net: how often every process looks for committed rows nobody numbered yet. */
const SWEEP_MS = 200;
export const CHANGES_CHANNEL = "plugboard_changes";
/** How long a feed reader waits at most for changes committed before it to be numbered. */
const SETTLE_MS = 2_000;
const SETTLE_RETRY_MS = 10;

/**
 * Gives committed change rows their dense, per-workspace public ids, in commit order
 * (docs/architecture.md, invariant 3).
 *
 * Writers insert change rows carrying `xid` (their transaction id) and no `seq`, and never wait on
 * each other. A row is only numbered once its `xid` is below the oldest transaction still running
 * (`pg_snapshot_xmin`): from then on no transaction that could still commit can get an older
 * position, so numbering `(xid, id)`-ordered rows never lets a later commit land behind a reader's
 * cursor. One sequencer per workspace runs at a time (a transaction-level advisory lock); it
 * NOTIFYs once per batch with the workspace and its new head, never the payload. A pass commits
 * without waiting for its WAL flush: after a crash, numbering the same committed rows again gives
 * them the same ids (drizzle/0002_sequencer_pass_without_waits.sql says why).
 *
 * It runs right after local commits (`kick`) and on a short timer (`start`), which also covers
 * writes made by other processes and rows that waited for a long transaction to end.
 */
export class Sequencer extends EventEmitter<{ advanced: [workspaceId: string, head: number] }> {
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private sweeping = false;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
  ) {
    super();
    this.setMaxListeners(0);
  }

  /** Numbers what is ready in a workspace; concurrent kicks coalesce into one more pass. */
  kick(workspaceId: string): Promise<void> {
    const current = this.running.get(workspaceId);
    if (current) {
      this.again.add(workspaceId);
      return current;
    }
    const run = (async () => {
      try {
        do {
          this.again.delete(workspaceId);
          const numbered = await this.sequence(workspaceId);
          if (numbered === BATCH) this.again.add(workspaceId);
        } while (this.again.has(workspaceId));
      } catch (error) {
        this.logger.error({ err: error, workspaceId }, "sequencer pass failed; the sweep will retry");
      } finally {
        this.running.delete(workspaceId);
      }
    })();
    this.running.set(workspaceId, run);
    return run;
  }

  /**
   * Numbers every change of a workspace committed before this call: what a reader of the feed
   * awaits so that it sees its own writes (writes do not wait for their numbers). A pass numbers
   * only rows older than every transaction still running in the database, so one pass may leave
   * some: it goes on, briefly, until none of those rows is left — at most `SETTLE_MS`, after which
   * the reader reads what is numbered (a transaction running that long holds every writer's rows
   * back alike). Nothing waiting costs one index lookup.
   */
  async settle(workspaceId: string): Promise<void> {
    /** The newest unnumbered change up to `upTo` (any, without it); null when none is left. */
    const waiting = async (upTo: string | null) => {
      const [row] = await queryRows<{ last: string | null }>(
        this.db,
        sql`select max(id)::text as last from changes
            where workspace_id = ${workspaceId} and seq is null
              and (xid, id) > ((select numbered_through_xid from change_feeds where workspace_id = ${workspaceId}),
                               (select numbered_through_id from change_feeds where workspace_id = ${workspaceId}))
              and id <= coalesce(${upTo}::bigint, 9223372036854775807)`,
      );
      return row?.last ?? null;
    };
    const upTo = await waiting(null);
    if (upTo === null) return;
    const deadline = Date.now() + SETTLE_MS;
    for (;;) {
      await this.kick(workspaceId);
      if ((await waiting(upTo)) === null || Date.now() >= deadline) return;
      await new Promise((resolve) => setTimeout(resolve, SETTLE_RETRY_MS));
    }
  }

  /**
   * One pass (the SQL function `plugboard_sequence`, one round trip): returns how many rows got
   * public ids, 0 when another pass holds the workspace's lock (this one is then repeated).
   */
  async sequence(workspaceId: string): Promise<number> {
    const [result] = await queryRows<{ numbered: number; new_head: number | string | null }>(
      this.db,
      sql`select numbered, new_head from plugboard_sequence(${workspaceId}::text, ${BATCH}::int)`,
    );
    const numbered = result?.numbered ?? 0;
    if (numbered < 0) {
      this.again.add(workspaceId); // someone else is numbering; look again afterwards
      return 0;
    }
    if (numbered > 0) this.emit("advanced", workspaceId, Number(result?.new_head));
    return numbered;
  }

  /** Starts the sweep over every workspace with committed rows still waiting for a number. */
  start(slower = 1): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sweep(), SWEEP_MS * slower);
    this.timer.unref();
  }

  /**
   * Kicks every workspace with changes still unnumbered, looking in each from where its last pass
   * stopped, as a pass does: a few index pages per workspace (9 ms a sweep with 10,000 workspaces).
   * Not one read of all of `changes_unsequenced`: that read the entries of every change numbered
   * since the last VACUUM (PGlite never vacuums), and without planner statistics (PGlite gathers
   * none, nor does PostgreSQL with autovacuum off) as a bitmap scan that visited each one's heap
   * page: 17 ms a sweep, five sweeps a second, after 48,000 creates (test/changes/sequencerScans.test.ts).
   */
  private async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const rows = await queryRows<{ workspace_id: string }>(
        this.db,
        // A lateral with a limit, not EXISTS: PostgreSQL made that a semi join reading the whole index.
        sql`select f.workspace_id from change_feeds f, lateral (
              select from changes c where c.workspace_id = f.workspace_id and c.seq is null
                and (c.xid, c.id) > (f.numbered_through_xid, f.numbered_through_id) limit 1) w`,
      );
      await Promise.all(rows.map((row) => this.kick(row.workspace_id)));
    } catch (error) {
      this.logger.warn({ err: error }, "sequencer sweep failed");
    } finally {
      this.sweeping = false;
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.allSettled(this.running.values());
  }

  /**
   * How far behind the feed is: committed-or-running writes not yet numbered, and the oldest one's
   * age. Counted per workspace from where its last pass stopped, as the sweep looks.
   */
  async lag(): Promise<{ pending: number; oldestSeconds: number }> {
    const [row] = await queryRows<{ pending: number; oldest: number | null }>(
      this.db,
      sql`select coalesce(sum(w.pending), 0)::int as pending,
            extract(epoch from now() - min(w.oldest))::float8 as oldest
          from change_feeds f, lateral (
            select count(*) as pending, min(c.occurred_at) as oldest from changes c
            where c.workspace_id = f.workspace_id and c.seq is null
              and (c.xid, c.id) > (f.numbered_through_xid, f.numbered_through_id)) w`,
    );
    return { pending: row?.pending ?? 0, oldestSeconds: row?.oldest ?? 0 };
  }
}

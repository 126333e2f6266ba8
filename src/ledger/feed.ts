import { sql } from "drizzle-orm";
import type { Actor } from "../auth/index.ts";
import { AppError, type Db, fail, queryRows } from "../kernel/index.ts";
import type { Catalog, CatalogStore } from "../metadata/index.ts";
import { canReadField, canReadType } from "../metadata/index.ts";
import { type ChangeFilter, type ResolvedFilter, resolveChangeFilter } from "./filter.ts";
import type { ChangeKind } from "./record.ts";
import type { StoredActor, StoredFieldChange, StoredRequest } from "./tables.ts";

export const MAX_CHANGES_PAGE = 1000;
const DEFAULT_CHANGES_PAGE = 100;
/** A page never scans more than this many ids past its cursor, so sparse filters stay cheap. */
const SCAN_WINDOW = 50_000;

/** A `ChangeRecord`'s columns of the change row aliased `c`: both page reads select them. */
const RECORD_COLUMNS = sql.raw(
  "c.seq, c.kind, c.resource_type_id, c.resource_type_key, c.resource_id, c.occurred_at, c.actor, c.fields, c.snapshot, c.version, c.origin, c.request",
);

/** A change as one reader may see it: trimmed by the access policy. */
export interface ChangeView {
  id: string;
  kind: ChangeKind;
  resourceType: string;
  resourceTypeId: string;
  resourceId: string;
  occurredAt: Date;
  actor: StoredActor;
  fields: StoredFieldChange[];
  snapshot: Record<string, unknown>;
  version: number;
  /** The `X-Plugboard-Origin` header of the request that made the change. */
  origin: string | null;
  request: StoredRequest | null;
}

export interface ChangePage {
  nodes: ChangeView[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
  headCursor: string;
}

/** A stored change row as the feed reads it, before trimming. */
export interface ChangeRecord {
  seq: number | string;
  kind: ChangeKind;
  resource_type_id: string;
  resource_type_key: string;
  resource_id: string;
  occurred_at: Date | string;
  actor: StoredActor;
  fields: StoredFieldChange[];
  snapshot: Record<string, unknown>;
  version: number;
  origin?: string | null;
  request?: StoredRequest | null;
}

/**
 * A cursor past the newest numbered change. Taking it would silently skip every change numbered up
 * to it later, so it is refused, naming the head to resume from.
 */
function pastHead(after: number, head: number, argument = "after"): AppError {
  return fail.badInput(
    argument,
    `${argument} "${after}" is past the newest change "${head}" of this workspace; use headCursor.`,
    { headCursor: String(head) },
  );
}

export function parseCursor(value: string | null | undefined, argument = "after"): number | null {
  if (value == null) return null;
  if (!/^\d{1,15}$/.test(value))
    throw fail.badInput(argument, `${argument} is a change id: a decimal string such as "42".`);
  return Number(value);
}

export interface PageArgs {
  after?: string | null;
  first?: number | null;
  last?: number | null;
  filter?: ChangeFilter | null;
  order?: "ASC" | "DESC" | null;
  since?: Date | null;
}

/**
 * The one read path of the change log (docs/architecture.md, invariant 2): `Query.changes`, subscriptions and
 * webhook deliveries all read changes through `resolveFilter` → `readAfter` → `trim`.
 */
export class ChangeFeed {
  /**
   * `settle` numbers every change committed so far in a workspace (the sequencer's). Writes
   * do not wait for their changes' numbers; the feed's own readers do, before they read: a client
   * reads its writes in `changes`, and a webhook or subscription starting "now" starts after them.
   */
  constructor(
    private readonly db: Db,
    private readonly catalogs: CatalogStore,
    private readonly settle: (workspaceId: string) => Promise<void>,
  ) {}

  resolveFilter(
    catalog: Catalog,
    actor: Actor,
    filter: ChangeFilter | null | undefined,
    argument = "filter",
  ): ResolvedFilter {
    return resolveChangeFilter(catalog, actor, filter, argument);
  }

  /**
   * Trims a stored change for a reader; null when nothing of it may be shown. Filters are applied
   * before (`ResolvedFilter`), on fields the reader can read, so trimming never changes a match.
   */
  trim(catalog: Catalog, actor: Actor, record: ChangeRecord): ChangeView | null {
    const type = catalog.typesById.get(record.resource_type_id);
    if (!type || !canReadType(catalog, actor, type)) return null;
    const fields: StoredFieldChange[] = [];
    for (const change of record.fields) {
      const field = catalog.fieldsById.get(change.fieldId);
      if (field && canReadField(catalog, actor, field)) fields.push({ ...change, name: field.name });
    }
    if (record.kind === "UPDATED" && fields.length === 0) return null;
    const snapshot: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(record.snapshot)) {
      const field = type.fieldsByKey.get(key);
      if (field && canReadField(catalog, actor, field)) snapshot[key] = value;
    }
    return {
      id: String(record.seq),
      kind: record.kind,
      resourceType: type.key,
      resourceTypeId: type.id,
      resourceId: record.resource_id,
      occurredAt: new Date(record.occurred_at),
      actor: record.actor,
      fields,
      snapshot,
      version: record.version,
      origin: record.origin ?? null,
      request: record.request ?? null,
    };
  }

  /**
   * Up to `limit` stored changes after `after` matching the filter, with the feed's head and pruning
   * horizon read in the same statement (one snapshot), so "nothing more up to head" is exact.
   *
   * `checkCursor`: `after` came from a client, so one past the head is refused (`pastHead`). The
   * head is read in this very statement, so any id the client has seen — numbered and committed
   * before it was shown — is at most the head; a head cached anywhere else could be stale.
   */
  async readAfter(
    workspaceId: string,
    after: number | null,
    limit: number,
    filter: ResolvedFilter,
    checkCursor = false,
  ): Promise<{ records: ChangeRecord[]; head: number; prunedThrough: number; scannedTo: number }> {
    const rows = await queryRows<
      ChangeRecord & { head: number | string; pruned_through: number | string; matched: boolean }
    >(
      this.db,
      sql`select f.head, f.pruned_through, c.seq is not null as matched, ${RECORD_COLUMNS}
          from change_feeds f
          left join lateral (
            select * from changes c
            where c.workspace_id = f.workspace_id and c.seq > greatest(${after ?? -1}::bigint, f.pruned_through)
              and c.seq <= greatest(${after ?? -1}::bigint, f.pruned_through) + ${SCAN_WINDOW}
              and ${filter.sql}
            order by c.seq limit ${limit}
          ) c on true
          where f.workspace_id = ${workspaceId}`,
    );
    const head = Number(rows[0]?.head ?? 0);
    const prunedThrough = Number(rows[0]?.pruned_through ?? 0);
    if (after !== null && after < prunedThrough) {
      throw new AppError(
        "CURSOR_EXPIRED",
        `Changes up to ${prunedThrough} are no longer retained; resume from oldestCursor (changes after it are complete).`,
        { oldestCursor: String(prunedThrough), field: "after" },
      );
    }
    if (checkCursor && after !== null && after > head) throw pastHead(after, head);
    const records = rows.filter((r) => r.matched);
    const start = Math.max(after ?? 0, prunedThrough);
    // A short page means everything up to the head (or the scan window's end) was scanned.
    const scannedTo =
      records.length === limit
        ? Number(records[records.length - 1]?.seq)
        : Math.min(head, start + SCAN_WINDOW);
    return { records, head, prunedThrough, scannedTo: Math.max(scannedTo, after ?? 0) };
  }

  /** `Query.changes(after, first, last, filter, order, since)`. */
  async page(actor: Actor, args: PageArgs): Promise<ChangePage> {
    const [catalog] = await Promise.all([
      this.catalogs.get(actor.workspaceId),
      this.settle(actor.workspaceId),
    ]);
    const filter = this.resolveFilter(catalog, actor, args.filter);
    let after = parseCursor(args.after);
    if (args.first != null && args.last != null) throw fail.badInput("last", "Pass first or last, not both.");
    const size = args.last ?? args.first ?? DEFAULT_CHANGES_PAGE;
    const argument = args.last != null ? "last" : "first";
    if (!Number.isInteger(size) || size < 0 || size > MAX_CHANGES_PAGE) {
      throw fail.badInput(argument, `${argument} must be between 0 and ${MAX_CHANGES_PAGE}.`);
    }
    const descending = args.order === "DESC";
    if (descending && args.last != null)
      throw fail.badInput("last", "order: DESC already starts at the newest; use first.");
    if (args.since != null) {
      if (after !== null) throw fail.badInput("since", "Pass after or since, not both.");
      if (descending || args.last != null)
        throw fail.badInput("since", "since enters the feed going forward: use it with first and order ASC.");
      after = await this.cursorAt(actor.workspaceId, args.since);
    }
    if (descending) return this.descending(actor, catalog, filter, after, size, args.after ?? null);
    if (args.last != null && after === null) return this.newest(actor, catalog, filter, size);
    const { records, head, scannedTo } = await this.readAfter(
      actor.workspaceId,
      after,
      Math.max(size, 1),
      filter,
      true,
    );
    const nodes = records.slice(0, size).flatMap((r) => this.trim(catalog, actor, r) ?? []);
    const endCursor = size === 0 ? (after === null ? null : String(after)) : String(scannedTo);
    return {
      nodes,
      hasNextPage: scannedTo < head,
      hasPreviousPage: (after ?? 0) > 0,
      startCursor: nodes[0]?.id ?? null,
      endCursor,
      headCursor: String(head),
    };
  }

  /**
   * `order: DESC`: newest first, walking down. A cursor `c` reads the changes numbered below `c`
   * (`after` is still "the cursor you were given", in the walking direction), and `endCursor`
   * is the lowest id scanned, so pages are exact: none skipped, none twice. Without a cursor it
   * starts at the head. The walk ends at the retention horizon (no CURSOR_EXPIRED: what lies
   * below it was simply pruned, and nothing newer is missed).
   */
  private async descending(
    actor: Actor,
    catalog: Catalog,
    filter: ResolvedFilter,
    before: number | null,
    size: number,
    given: string | null,
  ): Promise<ChangePage> {
    const rows = await queryRows<
      ChangeRecord & { head: number | string; pruned_through: number | string; matched: boolean }
    >(
      this.db,
      sql`select f.head, f.pruned_through, c.seq is not null as matched, ${RECORD_COLUMNS}
          from change_feeds f
          left join lateral (
            select * from changes c
            where c.workspace_id = f.workspace_id and c.seq < coalesce(${before}::bigint, f.head + 1)
              and c.seq > greatest(f.pruned_through, coalesce(${before}::bigint, f.head + 1) - 1 - ${SCAN_WINDOW})
              and ${filter.sql}
            order by c.seq desc limit ${Math.max(size, 1)}
          ) c on true
          where f.workspace_id = ${actor.workspaceId}`,
    );
    const head = Number(rows[0]?.head ?? 0);
    const prunedThrough = Number(rows[0]?.pruned_through ?? 0);
    // Below `head + 1` means "from the newest": the one cursor past the head that skips nothing.
    if (before !== null && before > head + 1) throw pastHead(before, head);
    const top = before ?? head + 1;
    const records = rows.filter((r) => r.matched);
    const low = Math.max(prunedThrough + 1, top - SCAN_WINDOW);
    const full = records.length === Math.max(size, 1);
    const scannedDownTo = Math.min(top, full ? Number(records[records.length - 1]?.seq) : low);
    const nodes = records.slice(0, size).flatMap((r) => this.trim(catalog, actor, r) ?? []);
    return {
      nodes,
      hasNextPage: size > 0 && scannedDownTo > prunedThrough + 1,
      hasPreviousPage: before !== null && before <= head,
      startCursor: nodes[0]?.id ?? null,
      endCursor: size === 0 ? given : String(scannedDownTo),
      headCursor: String(head),
    };
  }

  /** `Query.cursorAt`: any member with READ may ask (a cursor reveals no change). */
  async cursorAtFor(actor: Actor, time: Date): Promise<string> {
    await this.settle(actor.workspaceId);
    return String(await this.cursorAt(actor.workspaceId, time));
  }

  /**
   * The cursor just before the first change (in feed order) that occurred at or after `time`:
   * `after` it reads every change from that time on. A change's time is when its transaction
   * started, and ids follow commits, so a few changes just before `time` may follow it; none at
   * or after `time` comes before it. After the last change it is the head; before the retention
   * horizon, the horizon.
   *
   * Ids and times are nearly but not exactly in the same order, so the minimum id is taken over
   * every change from `time` on. Ordering by time (the fence `offset 0` keeps it) makes that an
   * index-only scan of `changes_workspace_time` from `time` forward — cheap for the recent times
   * pollers ask for (EXPLAIN, 200,000 changes: 1 ms for the last hour, 35 ms for all of them);
   * unordered, the planner walks the id index from the oldest change instead (40 ms for the last hour).
   */
  async cursorAt(workspaceId: string, time: Date): Promise<number> {
    const [row] = await queryRows<{ head: number | string; pruned_through: number | string; first: unknown }>(
      this.db,
      sql`select f.head, f.pruned_through,
                 (select min(t.seq) from (
                    select c.seq from changes c
                    where c.workspace_id = f.workspace_id and c.occurred_at >= ${time.toISOString()}::timestamptz
                      and c.seq is not null
                    order by c.occurred_at offset 0) t) as first
          from change_feeds f where f.workspace_id = ${workspaceId}`,
    );
    if (!row) return 0;
    if (row.first == null) return Number(row.head);
    return Math.max(Number(row.first) - 1, Number(row.pruned_through));
  }

  /** `last: N` without `after`: the newest N matching changes, ascending (samples for trigger set-up). */
  private async newest(
    actor: Actor,
    catalog: Catalog,
    filter: ResolvedFilter,
    size: number,
  ): Promise<ChangePage> {
    const rows = await queryRows<ChangeRecord & { head: number | string }>(
      this.db,
      sql`select f.head, c.* from change_feeds f
          join lateral (
            select * from changes c
            where c.workspace_id = f.workspace_id and c.seq is not null and ${filter.sql}
            order by c.seq desc limit ${size}
          ) c on true
          where f.workspace_id = ${actor.workspaceId}`,
    );
    const head = await this.head(actor.workspaceId);
    const nodes = rows.reverse().flatMap((r) => this.trim(catalog, actor, r) ?? []);
    return {
      nodes,
      hasNextPage: false,
      hasPreviousPage: rows.length === size,
      startCursor: nodes[0]?.id ?? null,
      endCursor: nodes[nodes.length - 1]?.id ?? String(head),
      headCursor: String(head),
    };
  }

  /** Where a new consumer starts: the head once every change committed before it is numbered. */
  async settledHead(workspaceId: string): Promise<number> {
    await this.settle(workspaceId);
    return this.head(workspaceId);
  }

  /**
   * The stored changes with these ids, untrimmed, for a reader that keeps ids and reads the changes
   * when it needs them (webhook deliveries). A pruned change is simply absent.
   */
  async records(workspaceId: string, seqs: number[]): Promise<ChangeRecord[]> {
    if (seqs.length === 0) return [];
    return queryRows<ChangeRecord>(
      this.db,
      sql`select ${RECORD_COLUMNS} from changes c
          where c.workspace_id = ${workspaceId} and c.seq = any(${sql.param(seqs)}::bigint[])`,
    );
  }

  async head(workspaceId: string): Promise<number> {
    const [row] = await queryRows<{ head: number | string }>(
      this.db,
      sql`select head from change_feeds where workspace_id = ${workspaceId}`,
    );
    return Number(row?.head ?? 0);
  }
}

/**
 * Drops changes older than `retentionDays`. Everything numbered before the first change inside the
 * period goes, so the horizon (`pruned_through`) is exact and readers below it get CURSOR_EXPIRED
 * instead of a silent gap. Housekeeping: runs on the background database.
 */
export async function pruneChanges(db: Db, retentionDays: number): Promise<void> {
  await db.execute(sql`
    with horizon as (
      select f.workspace_id,
             coalesce((select c.seq - 1 from changes c
                       where c.workspace_id = f.workspace_id and c.seq > f.pruned_through
                         and c.occurred_at >= now() - make_interval(days => ${retentionDays})
                       order by c.seq limit 1), f.head) as through
      from change_feeds f
    ), pruned as (
      delete from changes c using horizon h
      where c.workspace_id = h.workspace_id and c.seq is not null and c.seq <= h.through
      returning c.workspace_id
    )
    update change_feeds f set pruned_through = greatest(f.pruned_through, h.through)
    from horizon h where f.workspace_id = h.workspace_id and h.through > f.pruned_through`);
}

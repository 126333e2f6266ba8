import { sql } from "drizzle-orm";
import { type Db, newId, queryRows } from "../kernel/index.ts";
import type { DeliveryRow, WebhookRow } from "./tables.ts";

/**
 * The delivery queue's SQL, one function per operation (as graphile-worker keeps its `sql/`).
 * Work is claimed per webhook with a lease taken under `FOR UPDATE SKIP LOCKED`, so any number of
 * processes share the work, one process at a time delivers a webhook's changes in order, and a
 * killed process's lease simply lapses.
 */

/**
 * A resource change to deliver: only its id. The change itself is read and trimmed for the creator
 * when the delivery is sent (`payloads.ts`).
 */
export interface NewDelivery {
  changeSeq: number;
  eventType: string;
}

/**
 * The active webhooks (optionally of one workspace), and those whose cursor is behind their
 * workspace's head.
 */
export async function activeWebhooks(
  db: Db,
  workspaceId?: string,
): Promise<{ active: number; behind: string[] }> {
  const rows = await queryRows<{ id: string; behind: boolean }>(
    db,
    sql`select w.id, w.cursor < f.head as behind from webhooks w join change_feeds f on f.workspace_id = w.workspace_id
        where w.status = 'ACTIVE' ${workspaceId ? sql`and w.workspace_id = ${workspaceId}` : sql``}`,
  );
  return { active: rows.length, behind: rows.filter((r) => r.behind).map((r) => r.id) };
}

/**
 * Moves a webhook's cursor from `from` to `to` and enqueues the deliveries found on the way, in one
 * transaction. The cursor is compared-and-set, so when two processes advance the same webhook only
 * one wins and no change is enqueued twice. Replays land on the existing (webhook, change) row and
 * put it back in the queue, keeping its id (the `webhook-id` header).
 */
export async function enqueue(
  db: Db,
  webhook: Pick<WebhookRow, "id" | "workspaceId">,
  from: number,
  to: number,
  deliveries: NewDelivery[],
): Promise<boolean> {
  return db.transaction(async (tx) => {
    await relaxCommit(tx);
    const moved = await queryRows<{ id: string }>(
      tx,
      sql`update webhooks set cursor = ${to} where id = ${webhook.id} and cursor = ${from} and status = 'ACTIVE'
          returning id`,
    );
    if (moved.length === 0) return false;
    if (deliveries.length === 0) return true;
    const values = deliveries.map(
      (d) =>
        sql`(${newId("delivery")}, ${webhook.id}, ${webhook.workspaceId}, ${d.changeSeq}::bigint, ${d.eventType},
             null::jsonb, 'PENDING'::delivery_status, now())`,
    );
    await tx.execute(
      sql`insert into webhook_deliveries (id, webhook_id, workspace_id, change_seq, event_type, data, status, next_attempt_at)
          values ${sql.join(values, sql`, `)}
          on conflict (webhook_id, change_seq) do update set
            data = excluded.data, status = excluded.status, event_type = excluded.event_type,
            next_attempt_at = excluded.next_attempt_at, round_attempts = 0`,
    );
    return true;
  });
}

/**
 * Schema changes, in the metadata transaction that makes them (an outbox): one PENDING delivery per
 * change for each active webhook that opted in and whose creator's role could see it. They carry
 * no change id (like pings) and are sent with the same signing, in the order they were enqueued.
 */
export async function enqueueSchemaDeliveries(
  tx: Db,
  workspaceId: string,
  changes: { readableRoles: string[]; eventType: string; data: Record<string, unknown> }[],
): Promise<void> {
  const hooks = await queryRows<{ id: string; role: string }>(
    tx,
    sql`select w.id, m.role from webhooks w join members m on m.id = w.created_by_id
        where w.workspace_id = ${workspaceId} and w.status = 'ACTIVE' and w.include_schema_changes`,
  );
  const values = changes.flatMap((change) =>
    hooks
      .filter((hook) => hook.role === "OWNER" || change.readableRoles.includes(hook.role))
      .map(
        (hook) =>
          sql`(${newId("delivery")}, ${hook.id}, ${workspaceId}, null, ${change.eventType},
               ${JSON.stringify(change.data)}::jsonb, 'PENDING'::delivery_status, now())`,
      ),
  );
  if (values.length === 0) return;
  await tx.execute(
    sql`insert into webhook_deliveries (id, webhook_id, workspace_id, change_seq, event_type, data, status, next_attempt_at)
        values ${sql.join(values, sql`, `)}`,
  );
}

/** Leases up to `limit` active webhooks that have deliveries due and no live lease. */
export async function claimWebhooks(
  db: Db,
  owner: string,
  limit: number,
  leaseSeconds: number,
): Promise<string[]> {
  const rows = await queryRows<{ id: string }>(
    db,
    sql`update webhooks w set lease_owner = ${owner}, lease_until = now() + make_interval(secs => ${leaseSeconds})
        where w.id in (
          select c.id from webhooks c
          where c.status = 'ACTIVE' and (c.lease_until is null or c.lease_until < now())
            and exists (select 1 from webhook_deliveries d
                        where d.webhook_id = c.id and d.status = 'PENDING' and d.next_attempt_at <= now())
          order by c.lease_until nulls first
          limit ${limit}
          for update skip locked
        )
        returning w.id`,
  );
  return rows.map((r) => r.id);
}

/** The webhook while this process holds its lease; null once it is lost, disabled or deleted. */
export async function leasedWebhook(
  db: Db,
  id: string,
  owner: string,
  leaseSeconds: number,
): Promise<WebhookRow | null> {
  const [row] = await queryRows<Record<string, unknown>>(
    db,
    sql`update webhooks set lease_until = now() + make_interval(secs => ${leaseSeconds})
        where id = ${id} and lease_owner = ${owner} and status = 'ACTIVE'
        returning id, workspace_id, created_by_id, url, secret, previous_secret, previous_secret_expires_at`,
  );
  if (!row) return null;
  return {
    id: String(row.id),
    workspaceId: String(row.workspace_id),
    createdById: String(row.created_by_id),
    url: String(row.url),
    secret: String(row.secret),
    previousSecret: (row.previous_secret as string | null) ?? null,
    previousSecretExpiresAt: row.previous_secret_expires_at
      ? new Date(row.previous_secret_expires_at as string)
      : null,
  } as WebhookRow;
}

export async function releaseLease(db: Db, id: string, owner: string): Promise<void> {
  await db.execute(
    sql`update webhooks set lease_owner = null, lease_until = null where id = ${id} and lease_owner = ${owner}`,
  );
}

/** A webhook's due deliveries in change order (pings by when they were asked for). */
export async function dueDeliveries(db: Db, webhookId: string, limit: number): Promise<DeliveryRow[]> {
  const rows = await queryRows<Record<string, unknown>>(
    db,
    // A change delivery is sent from its change: its data (null, or a copy on rows from before the
    // 0008 migration) is not read.
    sql`select id, change_seq, event_type, case when change_seq is null then data end as data, round_attempts
        from webhook_deliveries
        where webhook_id = ${webhookId} and status = 'PENDING' and next_attempt_at <= now()
        order by position limit ${limit}`,
  );
  return rows.map(
    (r) =>
      ({
        id: String(r.id),
        webhookId,
        changeSeq: r.change_seq == null ? null : Number(r.change_seq),
        eventType: String(r.event_type),
        data: (typeof r.data === "string" ? JSON.parse(r.data) : r.data) as Record<string, unknown> | null,
        roundAttempts: Number(r.round_attempts),
      }) as DeliveryRow,
  );
}

/** Deliveries with nothing the creator may see: SKIPPED, with no attempt. */
export async function markSkipped(db: Db, deliveryIds: string[]): Promise<void> {
  if (deliveryIds.length === 0) return;
  await db.execute(
    sql`update webhook_deliveries set status = 'SKIPPED', next_attempt_at = null
        where id = any(${sql.param(deliveryIds)}::text[])`,
  );
}

/**
 * Deliveries that cannot be sent at all (their change was pruned): FAILED, with an attempt that
 * says why in place of a response, so the deliveries list shows the receiver missed something.
 * The webhook's health is left alone: the receiver did nothing wrong.
 */
export async function markUnsendable(db: Db, deliveryIds: string[], reason: string): Promise<void> {
  if (deliveryIds.length === 0) return;
  await db.execute(
    sql`with d as (
          update webhook_deliveries set status = 'FAILED', attempt_count = attempt_count + 1,
                 round_attempts = round_attempts + 1, last_attempt_at = now(), next_attempt_at = null
          where id = any(${sql.param(deliveryIds)}::text[]) returning id, attempt_count
        )
        insert into webhook_attempts (delivery_id, attempt, at, duration_ms, error)
        select id, attempt_count, now(), 0, ${reason} from d`,
  );
}

/**
 * The queue's own bookkeeping need not wait for the WAL flush: a crash can only lose the last few
 * milliseconds of it, which means sending those deliveries again — at-least-once outward
 * (docs/architecture.md, invariant 5) already allows that, and the cursor rolls back with its
 * deliveries, so nothing is lost. It makes a commit cheap, which is what bounds delivery throughput.
 */
async function relaxCommit(tx: Db): Promise<void> {
  await tx.execute(sql`set local synchronous_commit = off`);
}

/** Records a lane's recent attempts in one transaction; false when the lane must stop (see `recordAttempt`). */
export async function recordAttempts(
  db: Db,
  outcomes: AttemptOutcome[],
  owner: string,
  leaseSeconds: number,
): Promise<boolean> {
  if (outcomes.length === 0) return true;
  return db.transaction(async (tx) => {
    await relaxCommit(tx);
    // Webhook rows before their deliveries, the order deleteWebhook takes them in (the webhook,
    // then its deliveries by cascade): a delete racing recorded attempts waits for them. Each
    // attempt's statement updates its delivery first, so without this they deadlocked.
    for (const id of [...new Set(outcomes.map((o) => o.webhookId))].sort()) {
      await tx.execute(sql`select 1 from webhooks where id = ${id} for no key update`);
    }
    let keep = true;
    for (const outcome of outcomes) keep = (await recordAttempt(tx, outcome, owner, leaseSeconds)) && keep;
    return keep;
  });
}

export interface AttemptOutcome {
  deliveryId: string;
  webhookId: string;
  at: Date;
  responseStatus: number | null;
  durationMs: number;
  error: string | null;
  responseBody: string | null;
  /** The delivery's state after this attempt. */
  status: "PENDING" | "SUCCEEDED" | "FAILED";
  nextAttemptAt: Date | null;
  /** What the attempt does to the webhook. */
  effect: "succeeded" | "failed" | "gone";
}

const FAILING_DAYS = 5;

/**
 * Records one attempt, the delivery's new state and the webhook's health in one statement, and
 * renews this process's lease on the way. False when the lane must stop: the webhook was deleted,
 * disabled, or its lease was taken over.
 */
export async function recordAttempt(
  db: Db,
  o: AttemptOutcome,
  owner: string,
  leaseSeconds: number,
): Promise<boolean> {
  const at = o.at.toISOString();
  const webhookUpdate =
    o.effect === "succeeded"
      ? sql`consecutive_failures = 0, failing_since = null, last_delivery_at = ${at}::timestamptz`
      : o.effect === "gone"
        ? sql`consecutive_failures = consecutive_failures + 1, status = 'DISABLED',
              disabled_reason = 'The endpoint answered 410 Gone; re-enable the webhook to resume.'`
        : sql`consecutive_failures = consecutive_failures + 1,
              failing_since = coalesce(failing_since, ${at}::timestamptz),
              status = case when coalesce(failing_since, ${at}::timestamptz) < ${at}::timestamptz - make_interval(days => ${FAILING_DAYS})
                            then 'DISABLED'::webhook_status else status end,
              disabled_reason = case when coalesce(failing_since, ${at}::timestamptz) < ${at}::timestamptz - make_interval(days => ${FAILING_DAYS})
                                     then ${`Every delivery failed for ${FAILING_DAYS} days; re-enable the webhook to resume.`} else disabled_reason end`;
  const rows = await queryRows<{ keep: boolean }>(
    db,
    sql`with d as (
          update webhook_deliveries set status = ${o.status}::delivery_status, attempt_count = attempt_count + 1,
                 round_attempts = round_attempts + 1, last_attempt_at = ${at}::timestamptz,
                 next_attempt_at = ${o.nextAttemptAt ? o.nextAttemptAt.toISOString() : null}::timestamptz
          where id = ${o.deliveryId} returning id, attempt_count
        ), a as (
          insert into webhook_attempts (delivery_id, attempt, at, response_status, duration_ms, error, response_body)
          select id, attempt_count, ${at}::timestamptz, ${o.responseStatus}::int, ${o.durationMs}::int,
                 ${o.error}, ${o.responseBody} from d
          returning delivery_id
        )
        update webhooks set ${webhookUpdate}, updated_at = now(),
          lease_until = case when lease_owner = ${owner} then now() + make_interval(secs => ${leaseSeconds})
                             else lease_until end
        where id = ${o.webhookId} and exists (select 1 from a)
        returning status = 'ACTIVE' and lease_owner = ${owner} as keep`,
  );
  return rows[0]?.keep === true;
}

export async function disableWebhook(db: Db, id: string, reason: string): Promise<void> {
  await db.execute(
    sql`update webhooks set status = 'DISABLED', disabled_reason = ${reason}, updated_at = now() where id = ${id}`,
  );
}

/** Drops finished delivery records (and their attempts) older than the retention period. */
export async function pruneDeliveries(db: Db, days: number): Promise<void> {
  await db.execute(
    sql`delete from webhook_deliveries
        where status <> 'PENDING' and created_at < now() - make_interval(days => ${days})`,
  );
}

/**
 * Deliveries of active webhooks still to be made (due or waiting for a retry) and the age of the
 * oldest: how far webhook delivery is behind (`/metrics`). A disabled webhook's deliveries wait for
 * it to be re-enabled, so they are not counted.
 */
export async function deliveryBacklog(db: Db): Promise<{ pending: number; oldestSeconds: number }> {
  const [row] = await queryRows<{ pending: number; oldest: number | null }>(
    db,
    sql`select count(*)::int as pending, extract(epoch from now() - min(d.created_at))::float8 as oldest
        from webhook_deliveries d join webhooks w on w.id = d.webhook_id
        where d.status = 'PENDING' and w.status = 'ACTIVE'`,
  );
  return { pending: row?.pending ?? 0, oldestSeconds: row?.oldest ?? 0 };
}

import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Actor } from "../auth/index.ts";
import { AppError, type Db, fail, queryRows } from "../kernel/index.ts";

/**
 * The actor with an input-level `idempotencyKey` as its request's key (unless the request sent an
 * Idempotency-Key header), so the changes it writes echo the key the caller chose either way.
 */
export function withInputKey(actor: Actor, key: string | null | undefined): Actor {
  if (key == null || actor.request?.idempotencyKey) return actor;
  return { ...actor, request: { requestId: actor.request?.requestId ?? null, idempotencyKey: key } };
}

/** How long a key remembers its first result. */
export const IDEMPOTENCY_TTL_HOURS = 24;

function stable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stable);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value as object)
        .sort()
        .map((k) => [k, stable((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/**
 * Runs `run` at most once per (workspace, key) within 24 hours, in the caller's transaction. The key
 * row is inserted first: a concurrent retry waits on it, then reads the stored result. The same
 * key with a different input is IDEMPOTENCY_CONFLICT.
 */
export async function withIdempotency<T>(
  tx: Db,
  workspaceId: string,
  key: string | null | undefined,
  operation: string,
  input: unknown,
  run: () => Promise<T>,
): Promise<{ result: T; replayed: boolean }> {
  if (key == null) return { result: await run(), replayed: false };
  if (key.length === 0 || key.length > 200)
    throw fail.badInput("idempotencyKey", "idempotencyKey must be 1 to 200 characters.");
  const hash = createHash("sha256")
    .update(operation)
    .update(JSON.stringify(stable(input)))
    .digest("hex");
  await tx.execute(
    sql`delete from idempotency_keys where workspace_id = ${workspaceId} and key = ${key}
          and created_at < now() - make_interval(hours => ${IDEMPOTENCY_TTL_HOURS})`,
  );
  const claimed = await queryRows<{ key: string }>(
    tx,
    sql`insert into idempotency_keys (workspace_id, key, operation, request_hash, result)
        values (${workspaceId}, ${key}, ${operation}, ${hash}, 'null'::jsonb)
        on conflict (workspace_id, key) do nothing returning key`,
  );
  if (claimed.length === 0) {
    const [existing] = await queryRows<{ request_hash: string; result: T }>(
      tx,
      sql`select request_hash, result from idempotency_keys where workspace_id = ${workspaceId} and key = ${key}`,
    );
    if (!existing || existing.request_hash !== hash) {
      throw new AppError(
        "IDEMPOTENCY_CONFLICT",
        `idempotencyKey ${JSON.stringify(key)} was already used with a different input; use a new key for a new request.`,
        { field: "idempotencyKey" },
      );
    }
    return { result: existing.result, replayed: true };
  }
  const result = await run();
  await tx.execute(
    sql`update idempotency_keys set result = ${JSON.stringify(result)}::jsonb
        where workspace_id = ${workspaceId} and key = ${key}`,
  );
  return { result, replayed: false };
}

export async function pruneIdempotencyKeys(db: Db): Promise<void> {
  await db.execute(
    sql`delete from idempotency_keys where created_at < now() - make_interval(hours => ${IDEMPOTENCY_TTL_HOURS})`,
  );
}

/** What a request's `Idempotency-Key` finds: run it, replay a stored response, or refuse. */
export type RequestKeyClaim =
  | { state: "claimed" }
  | { state: "replay"; response: unknown }
  | { state: "conflict" }
  | { state: "running" };

/**
 * A request that claimed a key and neither stored a response nor released it (its process died)
 * holds the key this long; after that a retry takes it over.
 */
const ABANDONED_SECONDS = 60;

/**
 * The `Idempotency-Key` header of any mutation (server/plugins/idempotencyKey.ts), in the same table
 * as the input-level keys, under its own prefix and the credential's scope: a key is claimed by
 * one autocommitted insert before the operation runs, so a concurrent duplicate sees it `running`.
 */
export async function claimRequestKey(
  db: Db,
  workspaceId: string,
  scopedKey: string,
  operation: string,
  hash: string,
): Promise<RequestKeyClaim> {
  const key = `request:${scopedKey}`;
  const [claimed] = await queryRows<{ fresh: boolean }>(
    db,
    sql`insert into idempotency_keys (workspace_id, key, operation, request_hash, result)
        values (${workspaceId}, ${key}, ${operation}, ${hash}, 'null'::jsonb)
        on conflict (workspace_id, key) do update set operation = excluded.operation,
          request_hash = excluded.request_hash, result = 'null'::jsonb, created_at = now()
        where idempotency_keys.created_at < now() - make_interval(hours => ${IDEMPOTENCY_TTL_HOURS})
           or (idempotency_keys.result = 'null'::jsonb and idempotency_keys.request_hash = excluded.request_hash
               and idempotency_keys.created_at < now() - make_interval(secs => ${ABANDONED_SECONDS}))
        returning true as fresh`,
  );
  if (claimed) return { state: "claimed" };
  const [existing] = await queryRows<{ request_hash: string; result: unknown }>(
    db,
    sql`select request_hash, result from idempotency_keys where workspace_id = ${workspaceId} and key = ${key}`,
  );
  if (!existing) return claimRequestKey(db, workspaceId, scopedKey, operation, hash); // expired meanwhile
  if (existing.request_hash !== hash) return { state: "conflict" };
  return existing.result === null ? { state: "running" } : { state: "replay", response: existing.result };
}

export async function storeRequestResponse(
  db: Db,
  workspaceId: string,
  scopedKey: string,
  response: unknown,
): Promise<void> {
  await db.execute(
    sql`update idempotency_keys set result = ${JSON.stringify(response)}::jsonb
        where workspace_id = ${workspaceId} and key = ${`request:${scopedKey}`}`,
  );
}

/** Frees a key whose operation wrote nothing (it failed), so a retry runs it again. */
export async function releaseRequestKey(db: Db, workspaceId: string, scopedKey: string): Promise<void> {
  await db.execute(
    sql`delete from idempotency_keys where workspace_id = ${workspaceId} and key = ${`request:${scopedKey}`}
        and result = 'null'::jsonb`,
  );
}

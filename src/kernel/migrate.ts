import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import { readMigrationFiles } from "drizzle-orm/migrator";
import { type Db, queryRows } from "./db.ts";

export const migrationsFolder = fileURLToPath(new URL("../../drizzle", import.meta.url));

/** Any fixed number: every process takes this advisory lock to migrate and bootstrap one at a time. */
const MIGRATION_LOCK = 7_300_451_001;

function migrations() {
  return readMigrationFiles({ migrationsFolder });
}

/**
 * Applies drizzle-kit's committed migrations in one transaction under an advisory lock, so several
 * processes starting together migrate exactly once; `afterMigrate` (the bootstrap) runs in the same
 * transaction and lock, so it too happens exactly once.
 */
export async function migrate(db: Db, afterMigrate?: (tx: Db) => Promise<void>): Promise<number> {
  const pending = migrations();
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    await tx.execute(sql`create table if not exists plugboard_migrations (
      hash text primary key,
      created_at bigint not null,
      applied_at timestamptz not null default now()
    )`);
    const applied = new Set(
      (await queryRows<{ hash: string }>(tx, sql`select hash from plugboard_migrations`)).map((r) => r.hash),
    );
    let count = 0;
    for (const migration of pending) {
      if (applied.has(migration.hash)) continue;
      for (const statement of migration.sql) {
        if (statement.trim()) await tx.execute(sql.raw(statement));
      }
      await tx.execute(
        sql`insert into plugboard_migrations (hash, created_at) values (${migration.hash}, ${migration.folderMillis})`,
      );
      count++;
    }
    if (afterMigrate) await afterMigrate(tx);
    return count;
  });
}

/** Readiness: the database answers and every committed migration is applied. */
export async function pendingMigrationCount(db: Db): Promise<number> {
  const rows = await queryRows<{ hash: string }>(db, sql`select hash from plugboard_migrations`).catch(
    () => [],
  );
  const applied = new Set(rows.map((r) => r.hash));
  return migrations().filter((m) => !applied.has(m.hash)).length;
}

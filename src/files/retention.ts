import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../kernel/index.ts";
import type { FileStore } from "./storage.ts";

/**
 * Deletes uploads never attached to a FILE field within `hours` of their upload, and unfinished
 * uploads (a process that died mid-stream) as old, then their bytes. Files once attached are
 * kept: restorable resources and the change log may still name them.
 *
 * The row goes first, in one statement that re-checks `attached_at`: a file attached meanwhile is
 * never touched, and one deleted can no longer be attached. A crash before its bytes are removed
 * leaves unreferenced objects in a bucket (the database store's chunks cascade with the row).
 */
export async function purgeOrphanFiles(db: Db, store: FileStore, hours: number): Promise<number> {
  const rows = await queryRows<{ id: string }>(
    db,
    sql`delete from files where attached_at is null
          and created_at < now() - make_interval(hours => ${hours})
        returning id`,
  );
  for (const { id } of rows) await store.remove(id);
  return rows.length;
}

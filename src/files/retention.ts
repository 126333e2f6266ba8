import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/client.ts";

/**
 * Deletes uploads never attached to a FILE field within `hours` of their upload, and unfinished
 * uploads (a process that died mid-stream) as old; their chunks go with them (cascade). Files once
 * attached are kept: restorable resources and the change log may still name them.
 */
export async function purgeOrphanFiles(db: Db, hours: number): Promise<number> {
  const rows = await queryRows<{ id: string }>(
    db,
    sql`delete from files where attached_at is null
          and created_at < now() - make_interval(hours => ${hours})
        returning id`,
  );
  return rows.length;
}

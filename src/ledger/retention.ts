import { sql } from "drizzle-orm";
import type { Db } from "../kernel/index.ts";

/** Soft-deleted resources are restorable for the retention period, then removed for good. */
export async function purgeDeletedResources(db: Db, retentionDays: number): Promise<void> {
  await db.execute(
    sql`delete from resources where deleted_at is not null and deleted_at < now() - make_interval(days => ${retentionDays})`,
  );
}

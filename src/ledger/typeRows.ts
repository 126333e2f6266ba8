import { sql } from "drizzle-orm";
import type { Db } from "../kernel/index.ts";

/**
 * What deleting a type or a field does to stored resources: schema changes, not resource changes,
 * so no change rows (the resources were soft-deleted through the write path first, which recorded
 * theirs). metadata calls these through the hooks server/ wiring gives it (`ResourceRowHooks`).
 */

/** Removes every row of a deleted type for good. */
export async function deleteTypeRows(tx: Db, typeId: string): Promise<void> {
  await tx.execute(sql`delete from resources where type_id = ${typeId}`);
}

/** Removes a deleted field's value from every row of its type that has one. */
export async function dropFieldValues(tx: Db, typeId: string, fieldId: string): Promise<void> {
  await tx.execute(
    sql`update resources set values = values - ${fieldId}::text where type_id = ${typeId} and values ? ${fieldId}::text`,
  );
}

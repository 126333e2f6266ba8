import { type SQL, sql } from "drizzle-orm";
import type { Actor } from "../auth/actor.ts";
import { canReadField, canReadType } from "../auth/policy.ts";
import { type Db, queryRows } from "../db/client.ts";
import type { Catalog, FieldDef } from "../metadata/catalog.ts";
import type { FileRow } from "./tables.ts";

/** The FILE fields the actor may read, on types it may read: the only ways to an attached file. */
export function readableFileFields(catalog: Catalog, actor: Actor): FieldDef[] {
  return catalog.types.flatMap((type) =>
    canReadType(catalog, actor, type)
      ? type.fields.filter((field) => field.type === "FILE" && canReadField(catalog, actor, field))
      : [],
  );
}

/**
 * Which of `rows` the actor may read. A file nobody has attached yet is its uploader's alone; an
 * attached one is readable by whoever may read a FILE field of a live resource that holds it
 * (one query for all of them, through the `values` GIN index). Another workspace's file, or an
 * unfinished upload, is never readable: callers answer "not found" for those, as for unknown ids.
 */
export async function readableFiles(
  db: Db,
  catalog: Catalog,
  actor: Actor,
  rows: FileRow[],
): Promise<FileRow[]> {
  const mine = rows.filter((row) => row.workspaceId === actor.workspaceId && row.completedAt);
  const attached = mine.filter((row) => row.attachedAt).map((row) => row.id);
  const fields = readableFileFields(catalog, actor);
  let reachable = new Set<string>();
  if (attached.length > 0 && fields.length > 0) {
    const holds: SQL[] = fields.map(
      (field) =>
        sql`(r.type_id = ${field.resourceTypeId} and r.values @> jsonb_build_object(${field.id}::text, jsonb_build_array(f.id)))`,
    );
    const found = await queryRows<{ id: string }>(
      db,
      sql`select f.id from unnest(${sql.param(attached)}::text[]) as f(id)
          where exists (select 1 from resources r
                        where r.workspace_id = ${actor.workspaceId} and r.deleted_at is null
                          and (${sql.join(holds, sql` or `)}))`,
    );
    reachable = new Set(found.map((row) => row.id));
  }
  return mine.filter((row) => (row.attachedAt ? reachable.has(row.id) : row.createdById === actor.memberId));
}

import { and, eq, inArray, type SQL, sql } from "drizzle-orm";
import type { Actor } from "../auth/index.ts";
import { type Db, fail, queryRows } from "../kernel/index.ts";
import type { Catalog, FieldDef } from "../metadata/index.ts";
import { canReadField, canReadType, readableResourcesSql } from "../metadata/index.ts";
import { type FileRow, files } from "./tables.ts";

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
    const holdingTypes = [...new Set(fields.map((field) => field.resourceTypeId))].flatMap(
      (id) => catalog.typesById.get(id) ?? [],
    );
    const holds: SQL[] = fields.map(
      (field) =>
        sql`(r.type_id = ${field.resourceTypeId} and r.values @> jsonb_build_object(${field.id}::text, jsonb_build_array(f.id)))`,
    );
    const found = await queryRows<{ id: string }>(
      db,
      sql`select f.id from unnest(${sql.param(attached)}::text[]) as f(id)
          where exists (select 1 from resources r
                        where ${readableResourcesSql(catalog, actor, { alias: "r", types: holdingTypes })}
                          and (${sql.join(holds, sql` or `)}))`,
    );
    reachable = new Set(found.map((row) => row.id));
  }
  return mine.filter((row) => (row.attachedAt ? reachable.has(row.id) : row.createdById === actor.memberId));
}

/**
 * FILE values name files of the actor's workspace that the actor can read; anything else —
 * unknown, another workspace's, another member's unattached upload — is BAD_USER_INPUT naming the
 * field, exactly as if the id never existed. The files are marked attached in the writing
 * transaction, which makes them readable through the field and exempt from the orphan purge.
 */
export async function checkFileReferences(
  tx: Db,
  actor: Actor,
  catalog: Catalog,
  references: { field: FieldDef; ids: string[] }[],
  fieldPrefix = "",
): Promise<void> {
  const ids = [...new Set(references.flatMap((r) => r.ids))];
  const rows = await tx
    .select()
    .from(files)
    .where(and(eq(files.workspaceId, actor.workspaceId), inArray(files.id, ids)));
  const readable = new Set((await readableFiles(tx, catalog, actor, rows)).map((row) => row.id));
  for (const { field, ids: given } of references) {
    const missing = given.find((id) => !readable.has(id));
    if (missing) {
      throw fail.badInput(
        `${fieldPrefix}${field.key}`,
        `${missing} is not a file you can read; upload with POST /files or uploadFile and use the id it returns.`,
      );
    }
  }
  const unattached = rows.filter((row) => !row.attachedAt).map((row) => row.id);
  if (unattached.length > 0) {
    await tx.update(files).set({ attachedAt: sql`now()` }).where(inArray(files.id, unattached));
  }
}

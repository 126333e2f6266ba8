import { sql } from "drizzle-orm";
import type { Actor } from "../auth/index.ts";
import { activeMemberIds } from "../auth/index.ts";
import { type Db, fail, queryRows } from "../kernel/index.ts";
import type { CheckedLinks, References } from "../ledger/index.ts";
import type { Catalog } from "../metadata/index.ts";
import { canReadType, readableResourcesSql } from "../metadata/index.ts";

/**
 * Checks a write's FILE values (and attaches the files), in the writer's transaction. The files
 * domain sits above resources (its schema extends Resource), so server/ wiring hands it to the
 * ResourceService instead of resources importing files.
 */
export type FileReferenceCheck = (
  tx: Db,
  actor: Actor,
  catalog: Catalog,
  references: References["files"],
  fieldPrefix: string,
) => Promise<void>;

/** What checking a write's references needs: the writer's transaction, actor, catalog and file check. */
export interface ReferenceContext {
  tx: Db;
  actor: Actor;
  catalog: Catalog;
  checkFiles: FileReferenceCheck;
}

/**
 * Checks every id an input refers to, in one query per kind: a REFERENCE/LINKS target must be a
 * live resource of the field's type that the actor can read, in the actor's workspace; a MEMBER a
 * current member. Anything else — another workspace's id included — is BAD_USER_INPUT, exactly as
 * if the id never existed.
 */
export async function checkReferences(
  ctx: ReferenceContext,
  references: References,
  fieldPrefix = "",
): Promise<void> {
  const { tx, actor, catalog } = ctx;
  const resourceIds = [...new Set(references.resources.flatMap((r) => r.ids))];
  if (resourceIds.length > 0) {
    const rows = await queryRows<{ id: string; type_id: string }>(
      tx,
      sql`select id, type_id from resources
          where ${readableResourcesSql(catalog, actor)} and id = any(${sql.param(resourceIds)}::text[])`,
    );
    const typeOf = new Map(rows.map((row) => [row.id, row.type_id]));
    for (const { field, ids } of references.resources) {
      for (const id of ids) {
        const typeId = typeOf.get(id);
        const type = typeId ? catalog.typesById.get(typeId) : undefined;
        if (!type || typeId !== field.referenceTypeId) {
          const expected = catalog.typesById.get(field.referenceTypeId ?? "")?.key ?? "?";
          throw fail.badInput(
            `${fieldPrefix}${field.key}`,
            `${id} is not a ${expected} you can see; ${field.key} takes ${expected} ids.`,
          );
        }
      }
    }
  }
  const memberIds = [...new Set(references.members.flatMap((r) => r.ids))];
  if (memberIds.length > 0) {
    const found = await activeMemberIds(tx, actor.workspaceId, memberIds);
    for (const { field, ids } of references.members) {
      const missing = ids.find((id) => !found.has(id));
      if (missing)
        throw fail.badInput(`${fieldPrefix}${field.key}`, `${missing} is not a member of this workspace.`);
    }
  }
  if (references.files.length > 0) await ctx.checkFiles(tx, actor, catalog, references.files, fieldPrefix);
}

/**
 * The resource references of a create, for its write statement to check (`CheckedLinks`) instead of
 * `checkReferences` before it: null when the input refers to members or files too, or when a
 * field's target type is one the actor cannot read (those are checked, and refused, up front).
 * `unmet` runs `checkReferences` to name the bad id and its field.
 */
export function linksForWriteCheck(
  ctx: ReferenceContext,
  references: References,
  fieldPrefix = "",
): CheckedLinks | null {
  const { actor, catalog } = ctx;
  if (references.members.length > 0 || references.files.length > 0) return null;
  const ids: string[] = [];
  const typeIds: string[] = [];
  for (const { field, ids: given } of references.resources) {
    const type = catalog.typesById.get(field.referenceTypeId ?? "");
    if (!type || !canReadType(catalog, actor, type)) return null;
    for (const id of given) {
      ids.push(id);
      typeIds.push(type.id);
    }
  }
  if (ids.length === 0) return null; // nothing to check: the plain statement
  return {
    ids,
    typeIds,
    async unmet() {
      await checkReferences(ctx, references, fieldPrefix);
      // Every link was there when checked again: one was deleted and restored in between.
      throw fail.conflict("A resource this one links to changed while it was written; try again.");
    },
  };
}

/** Refuses a parent that is the resource itself or one of its descendants. */
export async function assertNoCycle(
  tx: Db,
  resourceId: string,
  parentId: string | null,
  fieldPrefix = "",
): Promise<void> {
  if (!parentId) return;
  if (parentId === resourceId)
    throw fail.badInput(`${fieldPrefix}parent`, "A resource cannot be its own parent.");
  const [row] = await queryRows<{ cycle: boolean }>(
    tx,
    sql`with recursive ancestors(id, depth) as (
          select parent_id, 1 from resources where id = ${parentId}
          union all
          select r.parent_id, a.depth + 1 from resources r join ancestors a on r.id = a.id
          where a.id is not null and a.depth < 1000
        )
        select exists(select 1 from ancestors where id = ${resourceId}) as cycle`,
  );
  if (row?.cycle) {
    throw fail.badInput(
      `${fieldPrefix}parent`,
      "That move would make a cycle: the new parent is a descendant of the resource.",
    );
  }
}

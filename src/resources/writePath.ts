import { eq, sql } from "drizzle-orm";
import type { Actor } from "../auth/actor.ts";
import { type ChangeKind, diffFields, type NewChange, snapshotOf, storedActor } from "../changes/record.ts";
import { changes } from "../changes/tables.ts";
import type { Db } from "../db/client.ts";
import type { Catalog, TypeDef } from "../metadata/catalog.ts";
import { fail } from "../schema/errors.ts";
import { type ResourceRow, resources } from "./tables.ts";
import type { ResourceState } from "./values.ts";

/**
 * THE write path (DESIGN.md invariant 1). Every change to a resource — create, update, delete,
 * restore, copy, link, assign, move, bulk items, cascades — is one of these operations, and
 * `commitWrites` writes the rows and their change rows in the caller's transaction. There is no
 * other code that writes `resources`, so no change can escape the feed.
 */
export type WriteOp =
  | { kind: "create"; type: TypeDef; id: string; state: ResourceState; fieldPrefix?: string }
  | { kind: "update"; type: TypeDef; before: ResourceRow; state: ResourceState; fieldPrefix?: string }
  | { kind: "delete"; type: TypeDef; before: ResourceRow }
  | { kind: "restore"; type: TypeDef; before: ResourceRow };

function cleanValues(values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values))
    if (value !== null && value !== undefined) out[key] = value;
  return out;
}

const UNIQUE_INDEX = /resources_unique_(fld_[0-9a-z]+)/;

/** A unique-index violation becomes CONFLICT naming the field; anything else is rethrown. */
function asConflict(error: unknown, catalog: Catalog, fieldPrefix = ""): never {
  const messages = [error, (error as { cause?: unknown })?.cause].map((e) => {
    const err = e as { message?: string; constraint_name?: string; constraint?: string } | undefined;
    return `${err?.message ?? ""} ${err?.constraint_name ?? ""} ${err?.constraint ?? ""}`;
  });
  const match = messages.join(" ").match(UNIQUE_INDEX);
  const field = match?.[1] ? catalog.fieldsById.get(match[1]) : undefined;
  if (field) {
    throw fail.conflict(`Another ${field.key} already has this value; ${field.key} is unique.`, {
      field: `${fieldPrefix}${field.key}`,
    });
  }
  throw error;
}

async function apply(
  tx: Db,
  actor: Actor,
  catalog: Catalog,
  op: WriteOp,
): Promise<{ row: ResourceRow; change: NewChange | null }> {
  const base = {
    workspaceId: actor.workspaceId,
    resourceTypeId: op.type.id,
    resourceTypeKey: op.type.key,
    actor: storedActor(actor),
  };
  const change = (
    kind: ChangeKind,
    row: ResourceRow,
    fields: NewChange["fields"],
    snapshotRow = row,
  ): NewChange => ({
    ...base,
    kind,
    resourceId: row.id,
    fields,
    snapshot: snapshotOf(op.type, snapshotRow),
    version: row.version,
  });
  try {
    switch (op.kind) {
      case "create": {
        const [row] = await tx
          .insert(resources)
          .values({
            id: op.id,
            workspaceId: actor.workspaceId,
            typeId: op.type.id,
            name: op.state.name,
            parentId: op.state.parentId,
            assigneeId: op.state.assigneeId,
            createdById: actor.memberId,
            values: cleanValues(op.state.values),
          })
          .returning();
        if (!row) throw new Error("insert returned no row");
        return { row, change: change("CREATED", row, diffFields(op.type, null, row)) };
      }
      case "update": {
        const next = { ...op.before, ...op.state, values: cleanValues(op.state.values) };
        const fields = diffFields(op.type, op.before, next);
        if (fields.length === 0) return { row: op.before, change: null }; // nothing changed: no change row
        const [row] = await tx
          .update(resources)
          .set({
            name: next.name,
            parentId: next.parentId,
            assigneeId: next.assigneeId,
            values: next.values,
            version: sql`${resources.version} + 1`,
            updatedAt: sql`now()`,
          })
          .where(eq(resources.id, op.before.id))
          .returning();
        if (!row) throw new Error("update returned no row");
        return { row, change: change("UPDATED", row, fields) };
      }
      case "delete": {
        const [row] = await tx
          .update(resources)
          .set({ deletedAt: sql`now()`, version: sql`${resources.version} + 1`, updatedAt: sql`now()` })
          .where(eq(resources.id, op.before.id))
          .returning();
        if (!row) throw new Error("delete returned no row");
        return { row, change: change("DELETED", row, [], op.before) };
      }
      case "restore": {
        const [row] = await tx
          .update(resources)
          .set({ deletedAt: null, version: sql`${resources.version} + 1`, updatedAt: sql`now()` })
          .where(eq(resources.id, op.before.id))
          .returning();
        if (!row) throw new Error("restore returned no row");
        return { row, change: change("RESTORED", row, []) };
      }
    }
  } catch (error) {
    return asConflict(error, catalog, "fieldPrefix" in op ? op.fieldPrefix : "");
  }
}

/** Applies the operations in order in `tx`, appending one change row per effective write. */
export async function commitWrites(
  tx: Db,
  actor: Actor,
  catalog: Catalog,
  ops: WriteOp[],
): Promise<ResourceRow[]> {
  const rows: ResourceRow[] = [];
  const appended: NewChange[] = [];
  for (const op of ops) {
    const { row, change } = await apply(tx, actor, catalog, op);
    rows.push(row);
    if (change) appended.push(change);
  }
  if (appended.length > 0) await tx.insert(changes).values(appended);
  return rows;
}

import type { Actor } from "../auth/index.ts";
import type { FieldDef, TypeDef } from "../metadata/index.ts";
import type { ResourceRow, StoredActor, StoredFieldChange } from "./tables.ts";
import { fieldValue } from "./values.ts";

export type ChangeKind = "CREATED" | "UPDATED" | "DELETED" | "RESTORED";

export function storedActor(actor: Actor): StoredActor {
  const kind =
    actor.credential.kind === "api_key" ? "api_key" : actor.credential.kind === "oauth" ? "oauth" : "member";
  return { kind, memberId: actor.memberId, credentialId: actor.credential.id };
}

function same(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/** Changed fields between two states; `updatedAt`, `createdAt`, `createdBy` and `version` never count. */
export function diffFields(
  type: TypeDef,
  before: ResourceRow | null,
  after: ResourceRow,
): StoredFieldChange[] {
  const changes: StoredFieldChange[] = [];
  for (const field of type.fields) {
    if (field.readOnly) continue;
    const previousValue = before ? fieldValue(before, field) : null;
    const value = fieldValue(after, field);
    if (same(previousValue, value)) continue;
    changes.push(fieldChange(field, previousValue, value));
  }
  return changes;
}

function fieldChange(field: FieldDef, previousValue: unknown, value: unknown): StoredFieldChange {
  const change: StoredFieldChange = {
    fieldId: field.id,
    key: field.key,
    name: field.name,
    previousValue,
    value,
  };
  if (field.type === "LINKS" || field.type === "MULTI_SELECT" || field.type === "FILE") {
    const before = new Set((previousValue as unknown[] | null) ?? []);
    const after = new Set((value as unknown[] | null) ?? []);
    change.added = [...after].filter((v) => !before.has(v));
    change.removed = [...before].filter((v) => !after.has(v));
  }
  return change;
}

/** Every field's value by key (access trimming happens when a change is read, per reader). */
export function snapshotOf(type: TypeDef, row: ResourceRow): Record<string, unknown> {
  const snapshot: Record<string, unknown> = {};
  for (const field of type.fields) snapshot[field.key] = fieldValue(row, field);
  return snapshot;
}

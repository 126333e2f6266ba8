import { sql } from "drizzle-orm";
import type { Db } from "../kernel/index.ts";
import { fieldTypes } from "./fieldTypes.ts";
import type { FieldType } from "./tables.ts";

/**
 * Indexes that belong to one custom field, made and dropped by the metadata service in the same
 * transaction as the field definition, with names derived from the field id. Uniqueness is thus
 * enforced by PostgreSQL itself, also under concurrent writers.
 *
 * Ids are inlined as literals (they match a strict pattern) because the planner only uses an
 * expression or partial index when the query repeats the same expression and predicate text.
 */
const SAFE_ID = /^[a-z]{2,4}_[0-9a-z]{1,40}$/;

export function sqlIdLiteral(id: string): string {
  if (!SAFE_ID.test(id)) throw new Error(`unsafe id ${id}`);
  return `'${id}'`;
}

/** The SQL expression of a JSONB field's value, as indexes and queries both spell it. */
export function valueExpression(fieldId: string, type: FieldType): string {
  const text = `("values" ->> ${sqlIdLiteral(fieldId)})`;
  return fieldTypes[type].numeric ? `((${text})::numeric)` : text;
}

/**
 * A nullable sort key as its index and the keyset both spell it: `(x is null)`, then `x` with nulls
 * replaced by a placeholder that never decides an order (rows with the placeholder all have
 * `(x is null)` true). Nulls sort last ascending and first descending, as PostgreSQL sorts them,
 * and the rows after a cursor are one row comparison `(x is null, coalesce(x, …), id) > (…)`: a
 * range of the index, where `x > v or x is null` was a filter over every row before the cursor.
 */
export function nullableSortColumns(expression: string, numeric: boolean): [string, string] {
  return [`(${expression} is null)`, `coalesce(${expression}, ${numeric ? "0" : "''"})`];
}

export const UNIQUE_TYPES: readonly FieldType[] = [
  "TEXT",
  "EMAIL",
  "URL",
  "PHONE",
  "NUMBER",
  "INTEGER",
  "DATE",
  "DATETIME",
  "SELECT",
];
/** Custom field types with a sort index (others sort without one). */
export const INDEXED_SORT_TYPES: readonly FieldType[] = ["NUMBER", "INTEGER", "DATE", "DATETIME"];

export async function createFieldIndexes(
  tx: Db,
  field: { id: string; type: FieldType; unique: boolean; resourceTypeId: string },
): Promise<void> {
  const where = `"type_id" = ${sqlIdLiteral(field.resourceTypeId)} and "deleted_at" is null`;
  if (field.unique) {
    await tx.execute(
      sql.raw(
        `create unique index "resources_unique_${field.id}" on "resources" (("values" ->> ${sqlIdLiteral(field.id)})) where ${where}`,
      ),
    );
  }
  if (INDEXED_SORT_TYPES.includes(field.type)) {
    const [isNull, value] = nullableSortColumns(
      valueExpression(field.id, field.type),
      fieldTypes[field.type].numeric === true,
    );
    await tx.execute(
      sql.raw(
        `create index "resources_sort_${field.id}" on "resources" ("workspace_id", ${isNull}, (${value}), "id") where ${where}`,
      ),
    );
  }
}

export async function dropFieldIndexes(tx: Db, fieldId: string): Promise<void> {
  sqlIdLiteral(fieldId);
  await tx.execute(sql.raw(`drop index if exists "resources_unique_${fieldId}"`));
  await tx.execute(sql.raw(`drop index if exists "resources_sort_${fieldId}"`));
}

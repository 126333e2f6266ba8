import type { Actor } from "../auth/index.ts";
import { AppError, fail } from "../kernel/index.ts";
import type { Catalog, FieldDef, SystemColumn, TypeDef } from "../metadata/index.ts";
import {
  canReadField,
  canWriteField,
  coerceValue,
  InvalidValue,
  readableFields,
  writableFields,
  writeProblem,
} from "../metadata/index.ts";
import { columnOf, type ListedRow, type OptionalColumn } from "./rows.ts";
import type { ResourceRow } from "./tables.ts";

/** The writable system columns and the row property each maps to. */
export const columnProperty = {
  name: "name",
  parent_id: "parentId",
  assignee_id: "assigneeId",
  created_at: "createdAt",
  updated_at: "updatedAt",
  created_by_id: "createdById",
} as const satisfies Record<SystemColumn, keyof ResourceRow>;

/** A resource's state as the write path sees it: system columns plus JSONB values by field id. */
export interface ResourceState {
  name: string | null;
  parentId: string | null;
  assigneeId: string | null;
  values: Record<string, unknown>;
}

/** Ids an input refers to, checked in one query each before anything is written. */
export interface References {
  resources: { field: FieldDef; ids: string[] }[];
  members: { field: FieldDef; ids: string[] }[];
  /** FILE values: files of the workspace the writer can read (see `checkFileReferences`). */
  files: { field: FieldDef; ids: string[] }[];
}

export interface PreparedValues {
  /** Changes to apply: system columns by property, JSONB values by field id (null clears). */
  columns: Partial<Pick<ResourceState, "name" | "parentId" | "assigneeId">>;
  values: Record<string, unknown>;
  references: References;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Validates an input `values` object against the type as the actor sees it: unknown or unreadable
 * keys are BAD_USER_INPUT, unwritable ones FORBIDDEN, each value checked and normalised by its type.
 * `fieldPrefix` names the argument in errors (e.g. `items[3].values.`).
 */
export function prepareValues(
  catalog: Catalog,
  actor: Actor,
  type: TypeDef,
  input: unknown,
  fieldPrefix = "",
): PreparedValues {
  if (!isPlainObject(input))
    throw fail.badInput(
      `${fieldPrefix}values`.replace(/\.$/, ""),
      "values must be a JSON object of { fieldKey: value }.",
    );
  const prepared: PreparedValues = {
    columns: {},
    values: {},
    references: { resources: [], members: [], files: [] },
  };
  for (const [key, raw] of Object.entries(input)) {
    const field = type.fieldsByKey.get(key);
    const name = `${fieldPrefix}${key}`;
    if (!field || !canReadField(catalog, actor, field)) {
      throw fail.badInput(
        name,
        `Unknown field ${JSON.stringify(key)} on type ${type.key}; see resourceType(key: "${type.key}").fields.`,
      );
    }
    if (!canWriteField(catalog, actor, field)) {
      throw new AppError(
        "FORBIDDEN",
        field.readOnly ? `The field ${key} is read-only.` : `Your role may not change the field ${key}.`,
        { field: name },
      );
    }
    let value: unknown;
    try {
      value = coerceValue(field, raw);
    } catch (error) {
      if (error instanceof InvalidValue) throw fail.badInput(name, `${key} ${error.message}.`);
      throw error;
    }
    const problem = writeProblem(field, value);
    if (problem) throw fail.badInput(name, `${key} ${problem}.`);
    if (value === null && field.required) throw fail.badInput(name, `${key} is required.`);
    if (field.column) {
      const property = columnProperty[field.column];
      if (property === "name" || property === "parentId" || property === "assigneeId") {
        prepared.columns[property] = value as string | null;
      }
    } else {
      prepared.values[field.id] = value;
    }
    if (value !== null) {
      const ids = Array.isArray(value) ? (value as string[]) : [value as string];
      if (field.type === "REFERENCE" || field.type === "LINKS")
        prepared.references.resources.push({ field, ids });
      if (field.type === "MEMBER") prepared.references.members.push({ field, ids });
      if (field.type === "FILE") prepared.references.files.push({ field, ids });
    }
  }
  return prepared;
}

/**
 * A new resource's state with each field's default where the input left the field out. Defaults
 * belong to the type, so they apply whether or not the creator may see the field.
 */
export function withDefaults(type: TypeDef, input: unknown, state: ResourceState): ResourceState {
  const given = isPlainObject(input) ? input : {};
  let values = state.values;
  for (const field of type.fields) {
    if (field.column || field.defaultValue == null || field.key in given) continue;
    if (values === state.values) values = { ...state.values };
    values[field.id] = field.defaultValue;
  }
  return values === state.values ? state : { ...state, values };
}

/**
 * Required custom fields must have a value once a resource exists. A required field the actor
 * cannot read is not named: it does not exist for them, only the refusal does.
 */
export function assertRequired(
  catalog: Catalog,
  actor: Actor,
  type: TypeDef,
  state: ResourceState,
  fieldPrefix = "",
): void {
  for (const field of type.fields) {
    if (!field.required) continue;
    const value = field.column === "name" ? state.name : field.column ? "set" : state.values[field.id];
    if (value !== null && value !== undefined) continue;
    if (!canReadField(catalog, actor, field)) {
      throw fail.badInput(
        fieldPrefix ? fieldPrefix.replace(/\.$/, "") : "values",
        "This type requires a value your role cannot set; ask an admin for access.",
      );
    }
    throw fail.badInput(`${fieldPrefix}${field.key}`, `${field.key} is required.`);
  }
}

/**
 * The state a copy made by the actor starts from: the values of the fields it may write, nothing
 * of those it may only read or not see (a copy holds what its maker could have written).
 */
export function writableState(
  catalog: Catalog,
  actor: Actor,
  type: TypeDef,
  row: ResourceRow,
): ResourceState {
  const state: ResourceState = { name: null, parentId: null, assigneeId: null, values: {} };
  for (const field of writableFields(catalog, actor, type)) {
    const property = field.column ? columnProperty[field.column] : null;
    if (property === "name" || property === "parentId" || property === "assigneeId")
      state[property] = row[property];
    else if (!field.column && row.values[field.id] !== undefined)
      state.values[field.id] = row.values[field.id];
  }
  return state;
}

/** The row column a field's value is read from: a system field's own column, else the JSONB values. */
export function fieldColumn(field: FieldDef): OptionalColumn {
  return field.column ? columnProperty[field.column] : "values";
}

/** The value of one field of a row, in API form (a listed row must have read the field's column). */
export function fieldValue(row: ListedRow, field: FieldDef): unknown {
  if (field.column) return columnOf(row, columnProperty[field.column]); // timestamps are ISO text already
  return columnOf(row, "values")[field.id] ?? null;
}

/** `{ key: value }` for every field of the type the actor may read (Resource.values, snapshots). */
export function visibleValues(
  catalog: Catalog,
  actor: Actor | null,
  type: TypeDef,
  row: ListedRow,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of actor ? readableFields(catalog, actor, type) : type.fields) {
    out[field.key] = fieldValue(row, field);
  }
  return out;
}

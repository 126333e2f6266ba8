import { type SQL, sql } from "drizzle-orm";
import type { Actor } from "../auth/index.ts";
import { fail } from "../kernel/index.ts";
import type { Catalog, FieldDef, TypeDef } from "../metadata/index.ts";
import {
  coerceValue,
  type FilterOperator,
  fieldTypes,
  InvalidValue,
  normalizeDateTime,
  nullableSortColumns,
  valueExpression,
  visibleField,
} from "../metadata/index.ts";

/** Any JSON value a filter operand may hold. */
// biome-ignore lint/complexity/noBannedTypes: `{}` is "any non-null value", what the JSON scalar gives.
type Json = {} | null;

/** The `ResourceFilter` input: a leaf names `field` and one operator; or combine with and/or/not. */
export interface ResourceFilter {
  and?: ResourceFilter[] | null;
  or?: ResourceFilter[] | null;
  not?: ResourceFilter | null;
  field?: string | null;
  eq?: Json;
  ne?: Json;
  in?: (Json | undefined)[] | null;
  notIn?: (Json | undefined)[] | null;
  lt?: Json;
  lte?: Json;
  gt?: Json;
  gte?: Json;
  contains?: Json;
  startsWith?: string | null;
  isNull?: boolean | null;
}

const OPERATORS: FilterOperator[] = [
  "eq",
  "ne",
  "in",
  "notIn",
  "lt",
  "lte",
  "gt",
  "gte",
  "contains",
  "startsWith",
  "isNull",
];
export const MAX_FILTER_DEPTH = 8;
const MAX_FILTER_LEAVES = 100;
export const MAX_IN = 500;

/** A field a filter or sort can name: a field definition, or the resource id itself. */
export type Sortable = { kind: "id" } | { kind: "field"; field: FieldDef };

export function resolveFilterField(
  catalog: Catalog,
  actor: Actor,
  type: TypeDef,
  key: string,
  argument: string,
): Sortable {
  if (key === "id") return { kind: "id" };
  return { kind: "field", field: visibleField(catalog, actor, type, key, argument) };
}

/** The SQL expression of a field (a column, or the JSONB value as indexes spell it). */
export function fieldExpression(target: Sortable): SQL {
  if (target.kind === "id") return sql.raw(`"resources"."id"`);
  const { field } = target;
  if (field.column) return sql.raw(`"resources"."${field.column}"`);
  return sql.raw(valueExpression(field.id, field.type).replace('"values"', '"resources"."values"'));
}

/**
 * A field as sorts and range filters compare it, the way its index spells it: the value alone when
 * it is never null (id, createdAt, updatedAt), else an is-null marker and the value with nulls
 * replaced (`nullableSortColumns`), so both stay ranges of one index.
 */
export function sortColumns(target: Sortable): { isNull: SQL | null; value: SQL; numeric: boolean } {
  if (target.kind === "id") return { isNull: null, value: fieldExpression(target), numeric: false };
  const { field } = target;
  if (field.column === "created_at" || field.column === "updated_at")
    return { isNull: null, value: fieldExpression(target), numeric: false };
  const numeric = !field.column && fieldTypes[field.type].numeric === true;
  const expression = field.column
    ? `"resources"."${field.column}"`
    : valueExpression(field.id, field.type).replace('"values"', '"resources"."values"');
  const [isNull, value] = nullableSortColumns(expression, numeric);
  return { isNull: sql.raw(isNull), value: sql.raw(value), numeric };
}

/**
 * `field <op> value` for a non-null value, as a range of the field's sort index: on a nullable
 * field, `(x is null) is false and coalesce(x, …) <op> value` (the same rows: value is not null).
 */
function compare(target: Sortable, symbol: string, value: unknown, cast: SQL): SQL {
  const { isNull, value: column } = sortColumns(target);
  const comparison = sql`${column} ${sql.raw(symbol)} ${value}${cast}`;
  return isNull ? sql`(${isNull} is false and ${comparison})` : comparison;
}

/** A leaf's operand checked and normalised for its field (BAD_USER_INPUT naming the field). */
export function filterOperand(
  target: Sortable,
  value: unknown,
  argument: string,
  op: FilterOperator,
): unknown {
  if (target.kind === "id") {
    if (typeof value !== "string") throw fail.badInput(argument, "id filters take id strings.");
    return value;
  }
  const { field } = target;
  try {
    if (op === "contains" && fieldTypes[field.type].array) {
      // contains on an array field: one element, or several that must all be present.
      const items = Array.isArray(value) ? value : [value];
      return coerceValue(field, items);
    }
    if (op === "contains" || op === "startsWith") {
      if (typeof value !== "string" || value.length === 0 || value.length > 1000)
        throw new InvalidValue("needs a string");
      return value;
    }
    if (field.column === "created_at" || field.column === "updated_at") return normalizeDateTime(value);
    const coerced = coerceValue(field, value);
    if (coerced === null) throw new InvalidValue("needs a value (use isNull to match empty fields)");
    return coerced;
  } catch (error) {
    if (error instanceof InvalidValue) throw fail.badInput(argument, `${field.key} ${op}: ${error.message}.`);
    throw error;
  }
}

function likePattern(value: string, prefix: boolean): string {
  const escaped = value.replace(/[\\%_]/g, (c) => `\\${c}`);
  return prefix ? `${escaped}%` : `%${escaped}%`;
}

/** Refuses an operator the field's type does not support. */
export function checkOperator(target: Sortable, op: FilterOperator, argument: string): void {
  const field = target.kind === "field" ? target.field : null;
  const spec = field ? fieldTypes[field.type] : null;
  if (field && !spec?.operators.includes(op)) {
    throw fail.badInput(
      argument,
      `${field.key} is ${field.type}: ${op} does not apply; use one of ${spec?.operators.join(", ")}.`,
    );
  }
  if (target.kind === "id" && !["eq", "ne", "in", "notIn"].includes(op)) {
    throw fail.badInput(argument, `id supports eq, ne, in and notIn.`);
  }
}

/** One operator on one field, as SQL. JSONB equality uses containment so the GIN index serves it. */
function leaf(target: Sortable, op: FilterOperator, raw: unknown, argument: string): SQL {
  const expression = fieldExpression(target);
  const field = target.kind === "field" ? target.field : null;
  const inJsonb = field !== null && !field.column;
  const spec = field ? fieldTypes[field.type] : null;
  checkOperator(target, op, argument);
  const contains = (value: unknown) =>
    sql`"resources"."values" @> ${JSON.stringify({ [field?.id ?? ""]: value })}::jsonb`;
  const equals = (value: unknown): SQL => {
    if (inJsonb && !spec?.array) return contains(value);
    if (inJsonb) return sql`("resources"."values" -> ${field?.id}) = ${JSON.stringify(value)}::jsonb`;
    return compare(target, "=", value, sql``);
  };
  switch (op) {
    case "isNull": {
      if (typeof raw !== "boolean") throw fail.badInput(argument, "isNull takes true or false.");
      const isNull = inJsonb ? sql`not ("resources"."values" ? ${field?.id})` : sql`${expression} is null`;
      return raw ? isNull : sql`not (${isNull})`;
    }
    case "eq":
      return equals(filterOperand(target, raw, argument, op));
    case "ne":
      return sql`not coalesce(${equals(filterOperand(target, raw, argument, op))}, false)`;
    case "in":
    case "notIn": {
      if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_IN) {
        throw fail.badInput(argument, `${op} takes 1 to ${MAX_IN} values.`);
      }
      const any = sql.join(
        raw.map((value) => equals(filterOperand(target, value, argument, op))),
        sql` or `,
      );
      return op === "in" ? sql`(${any})` : sql`not coalesce((${any}), false)`;
    }
    case "lt":
    case "lte":
    case "gt":
    case "gte": {
      const value = filterOperand(target, raw, argument, op);
      const symbol = { lt: "<", lte: "<=", gt: ">", gte: ">=" }[op];
      const cast =
        field?.column === "created_at" || field?.column === "updated_at" ? sql`::timestamptz` : sql``;
      return compare(target, symbol, value, cast);
    }
    case "contains": {
      const value = filterOperand(target, raw, argument, op);
      if (spec?.array || field?.type === "JSON") return contains(value);
      return sql`${expression} ilike ${likePattern(value as string, false)}`;
    }
    case "startsWith": {
      const value = filterOperand(target, raw, argument, op);
      return sql`${expression} ilike ${likePattern(value as string, true)}`;
    }
  }
}

/** How a filter tree is built from its leaves: SQL for resources, predicates for change snapshots. */
export interface FilterAlgebra<T> {
  leaf(field: string, op: FilterOperator, value: unknown): T;
  and(parts: T[]): T;
  or(parts: T[]): T;
  not(part: T): T;
  always: T;
}

/**
 * Walks a filter tree checking its shape (one operator per leaf, depth and size bounded) and
 * builds it with `algebra`; the leaves check their fields and operands.
 */
export function walkFilter<T>(filter: ResourceFilter, algebra: FilterAlgebra<T>, argument = "where"): T {
  let leaves = 0;
  const walk = (node: ResourceFilter, path: string, depth: number): T => {
    if (depth > MAX_FILTER_DEPTH)
      throw fail.badInput(argument, `Filters nest at most ${MAX_FILTER_DEPTH} levels deep.`);
    if (typeof node !== "object" || node === null) throw fail.badInput(path, "A filter is an object.");
    const parts: T[] = [];
    if (node.and) parts.push(...node.and.map((child, i) => walk(child, `${path}.and[${i}]`, depth + 1)));
    if (node.or) {
      if (node.or.length === 0) throw fail.badInput(`${path}.or`, "or needs at least one filter.");
      parts.push(algebra.or(node.or.map((child, i) => walk(child, `${path}.or[${i}]`, depth + 1))));
    }
    if (node.not) parts.push(algebra.not(walk(node.not, `${path}.not`, depth + 1)));
    const ops = OPERATORS.filter((op) => node[op] !== undefined && node[op] !== null);
    if (node.field != null) {
      if (ops.length !== 1)
        throw fail.badInput(
          `${path}.field`,
          `A filter on ${node.field} needs exactly one operator (got ${ops.length}).`,
        );
      if (++leaves > MAX_FILTER_LEAVES)
        throw fail.badInput(argument, `A filter has at most ${MAX_FILTER_LEAVES} conditions.`);
      const op = ops[0] as FilterOperator;
      parts.push(algebra.leaf(node.field, op, node[op]));
    } else if (ops.length > 0) {
      throw fail.badInput(path, `Operator ${ops[0]} needs a field.`);
    }
    if (parts.length === 0) return algebra.always;
    return parts.length === 1 ? (parts[0] as T) : algebra.and(parts);
  };
  return walk(filter, argument, 0);
}

/**
 * Compiles a filter tree to SQL against the fields the actor can read (an unreadable field is
 * BAD_USER_INPUT, as if it did not exist). Depth and size are bounded.
 */
export function compileFilter(
  catalog: Catalog,
  actor: Actor,
  type: TypeDef,
  filter: ResourceFilter,
  argument = "where",
): SQL {
  return walkFilter<SQL>(
    filter,
    {
      leaf: (field, op, value) =>
        leaf(resolveFilterField(catalog, actor, type, field, field), op, value, field),
      and: (parts) => sql`(${sql.join(parts, sql` and `)})`,
      or: (parts) => sql`(${sql.join(parts, sql` or `)})`,
      not: (part) => sql`not coalesce((${part}), false)`,
      always: sql`true`,
    },
    argument,
  );
}

/** A string a field must equal for a filter to match: the listing reads `resource_string_values`. */
export interface StringEquality {
  fieldId: string;
  value: string;
  /** The filter's only condition: the lookup's rows are its rows, whatever else is true of them. */
  alone: boolean;
}

/** `{ field, eq }` with a string operand on a field kept in `values` (not an array), or null. */
function stringLeaf(catalog: Catalog, actor: Actor, type: TypeDef, node: ResourceFilter) {
  if (node.field == null || node.eq == null) return null;
  const target = resolveFilterField(catalog, actor, type, node.field, node.field);
  if (target.kind !== "field" || target.field.column || fieldTypes[target.field.type].array) return null;
  const value = filterOperand(target, node.eq, node.field, "eq");
  return typeof value === "string" ? { fieldId: target.field.id, value } : null;
}

/**
 * The first string equality among the filter's conjuncts — the leaves every match must pass (not
 * under `or` or `not`) — or null. Call it on a filter `compileFilter` accepted: its fields are
 * readable and its operands valid.
 */
export function stringEquality(
  catalog: Catalog,
  actor: Actor,
  type: TypeDef,
  filter: ResourceFilter,
): StringEquality | null {
  const leaves: ResourceFilter[] = [];
  let branches = 0; // `or`s and `not`s
  const visit = (node: ResourceFilter) => {
    if (node.or || node.not) branches++;
    if (node.field != null) leaves.push(node);
    for (const child of node.and ?? []) visit(child);
  };
  visit(filter);
  for (const node of leaves) {
    const leaf = stringLeaf(catalog, actor, type, node);
    if (leaf) return { ...leaf, alone: branches === 0 && leaves.length === 1 };
  }
  return null;
}

/** `match: { key: value }`: shorthand for an `and` of `eq`s. */
export function matchToFilter(match: unknown): ResourceFilter {
  if (typeof match !== "object" || match === null || Array.isArray(match)) {
    throw fail.badInput("match", "match is an object of { fieldKey: value }.");
  }
  return {
    and: Object.entries(match).map(([field, value]) =>
      value === null ? { field, isNull: true } : { field, eq: value },
    ),
  };
}

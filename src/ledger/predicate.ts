import { type SQL, sql } from "drizzle-orm";
import type { StoredActor, StoredFieldChange } from "./tables.ts";

/**
 * A change filter after resolution, as one small tree that compiles two ways: to SQL over the
 * `changes` row aliased `c` (the feed and webhooks read with it) and to a function over a stored
 * change record (subscriptions filter the shared tail with it). Both forms are built from the same
 * leaves, each of which is true or false — never SQL NULL — so `not` means the same on both sides
 * and the two agree row for row (test/changes/predicate.test.ts checks them against each other).
 */
export type Predicate =
  | { op: "const"; value: boolean }
  | { op: "and" | "or"; of: Predicate[] }
  | { op: "not"; of: Predicate }
  /** A record column (or actor property) is one of `values`; a missing value never matches. */
  | { op: "in"; column: Column; values: string[] }
  /** One of these field ids is among the changed fields. */
  | { op: "changed"; fieldIds: string[] }
  /** The field changed, from `from` and to `to` (undefined: any). */
  | { op: "transition"; fieldId: string; from?: unknown; to?: unknown }
  /** A snapshot value compared with an operand (already checked against the field's type). */
  | { op: "snapshot"; key: string; test: SnapshotTest; operand: unknown };

export type Column = "type" | "kind" | "resource" | "origin" | "member" | "credential" | "actorKind";

/**
 * How a snapshot value is compared. Ordered comparisons hold only between values of the same JSON
 * type (numbers as numbers, strings by code point, like `collate "C"`); text search is case-blind.
 */
export type SnapshotTest =
  | "isNull"
  | "notNull"
  | "eq"
  | "contains"
  | "textContains"
  | "startsWith"
  | "ltNumber"
  | "lteNumber"
  | "gtNumber"
  | "gteNumber"
  | "ltText"
  | "lteText"
  | "gtText"
  | "gteText";

/** What the in-memory predicate reads: a stored change row (see `ChangeRecord`). */
export interface PredicateRecord {
  kind: string;
  resource_type_id: string;
  resource_id: string;
  actor: StoredActor;
  fields: StoredFieldChange[];
  snapshot: Record<string, unknown>;
  origin?: string | null;
}

export const TRUE: Predicate = { op: "const", value: true };
export const FALSE: Predicate = { op: "const", value: false };

export function and(...of: Predicate[]): Predicate {
  const parts = of.filter((p) => !(p.op === "const" && p.value));
  if (parts.some((p) => p.op === "const" && !p.value)) return FALSE;
  if (parts.length === 0) return TRUE;
  return parts.length === 1 ? (parts[0] as Predicate) : { op: "and", of: parts };
}

export function or(...of: Predicate[]): Predicate {
  const parts = of.filter((p) => !(p.op === "const" && !p.value));
  if (parts.some((p) => p.op === "const" && p.value)) return TRUE;
  if (parts.length === 0) return FALSE;
  return parts.length === 1 ? (parts[0] as Predicate) : { op: "or", of: parts };
}

export function not(of: Predicate): Predicate {
  if (of.op === "const") return { op: "const", value: !of.value };
  return { op: "not", of };
}

const COLUMN_SQL: Record<Column, SQL> = {
  type: sql`c.resource_type_id`,
  kind: sql`c.kind::text`,
  resource: sql`c.resource_id`,
  origin: sql`c.origin`,
  member: sql`(c.actor->>'memberId')`,
  credential: sql`(c.actor->>'credentialId')`,
  actorKind: sql`(c.actor->>'kind')`,
};

const json = (value: unknown) => sql`${JSON.stringify(value)}::jsonb`;

function snapshotSql(key: string, test: SnapshotTest, operand: unknown): SQL {
  const value = sql`(c.snapshot -> ${key})`;
  const text = sql`(c.snapshot ->> ${key})`;
  const typed = (type: string, comparison: SQL) => sql`(jsonb_typeof(${value}) = ${type} and ${comparison})`;
  switch (test) {
    case "isNull":
      return sql`coalesce(${value}, 'null'::jsonb) = 'null'::jsonb`;
    case "notNull":
      return sql`coalesce(${value}, 'null'::jsonb) <> 'null'::jsonb`;
    case "eq":
      return sql`coalesce(${value} = ${json(operand)}, false)`;
    case "contains":
      return sql`coalesce(${value} @> ${json(operand)}, false)`;
    case "textContains":
      return typed("string", sql`strpos(lower(${text}), ${String(operand).toLowerCase()}::text) > 0`);
    case "startsWith":
      return typed("string", sql`starts_with(lower(${text}), ${String(operand).toLowerCase()}::text)`);
    default: {
      const [, symbol, kind] = /^(lte|lt|gte|gt)(Number|Text)$/.exec(test) ?? [];
      const op = sql.raw({ lt: "<", lte: "<=", gt: ">", gte: ">=" }[symbol as "lt"]);
      return kind === "Number"
        ? typed("number", sql`(${text})::numeric ${op} ${operand}::numeric`)
        : typed("string", sql`${text} collate "C" ${op} ${operand}::text collate "C"`);
    }
  }
}

/** The predicate as a SQL condition on `changes c`; never NULL. */
export function toSql(predicate: Predicate): SQL {
  switch (predicate.op) {
    case "const":
      return predicate.value ? sql`true` : sql`false`;
    case "and":
    case "or":
      return sql`(${sql.join(predicate.of.map(toSql), predicate.op === "and" ? sql` and ` : sql` or `)})`;
    case "not":
      return sql`not ${toSql(predicate.of)}`;
    case "in":
      return sql`coalesce(${COLUMN_SQL[predicate.column]} = any(${sql.param(predicate.values)}::text[]), false)`;
    case "changed": {
      const any = predicate.fieldIds.map((fieldId) => sql`c.fields @> ${json([{ fieldId }])}`);
      return sql`(${sql.join(any, sql` or `)})`;
    }
    case "transition": {
      // Containment finds the entry cheaply; exact jsonb equality then checks from and to
      // (containment alone would let [1, 2] match [1]).
      const checks = [sql`e ->> 'fieldId' = ${predicate.fieldId}`];
      if (predicate.from !== undefined)
        checks.push(sql`coalesce(e -> 'previousValue', 'null'::jsonb) = ${json(predicate.from)}`);
      if (predicate.to !== undefined)
        checks.push(sql`coalesce(e -> 'value', 'null'::jsonb) = ${json(predicate.to)}`);
      return sql`(c.fields @> ${json([{ fieldId: predicate.fieldId }])} and exists (
        select 1 from jsonb_array_elements(c.fields) e where ${sql.join(checks, sql` and `)}))`;
    }
    case "snapshot":
      return snapshotSql(predicate.key, predicate.test, predicate.operand);
  }
}

/** PostgreSQL's jsonb equality: objects by keys regardless of order, numbers by value. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left);
  return (
    keys.length === Object.keys(right).length &&
    keys.every((key) => key in right && jsonEqual(left[key], right[key]))
  );
}

/** PostgreSQL's `@>` on jsonb (an array also contains a bare scalar it holds). */
export function jsonContains(a: unknown, b: unknown): boolean {
  if (Array.isArray(a)) {
    if (Array.isArray(b)) return b.every((item) => a.some((candidate) => jsonContains(candidate, item)));
    if (b === null || typeof b !== "object") return a.some((candidate) => jsonEqual(candidate, b));
    return false;
  }
  if (a !== null && typeof a === "object" && b !== null && typeof b === "object" && !Array.isArray(b)) {
    const left = a as Record<string, unknown>;
    return Object.entries(b as Record<string, unknown>).every(
      ([key, value]) => key in left && jsonContains(left[key], value),
    );
  }
  return jsonEqual(a, b);
}

/** Code-point order, as `collate "C"` compares UTF-8 bytes. */
function compareText(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i]?.codePointAt(0) ?? 0) - (y[i]?.codePointAt(0) ?? 0);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

function snapshotTest(test: SnapshotTest, operand: unknown): (value: unknown) => boolean {
  const lowered = typeof operand === "string" ? operand.toLowerCase() : "";
  switch (test) {
    case "isNull":
      return (v) => v === null || v === undefined;
    case "notNull":
      return (v) => v !== null && v !== undefined;
    case "eq":
      return (v) => v !== undefined && jsonEqual(v, operand);
    case "contains":
      return (v) => v !== undefined && v !== null && jsonContains(v, operand);
    case "textContains":
      return (v) => typeof v === "string" && v.toLowerCase().includes(lowered);
    case "startsWith":
      return (v) => typeof v === "string" && v.toLowerCase().startsWith(lowered);
    case "ltNumber":
      return (v) => typeof v === "number" && v < (operand as number);
    case "lteNumber":
      return (v) => typeof v === "number" && v <= (operand as number);
    case "gtNumber":
      return (v) => typeof v === "number" && v > (operand as number);
    case "gteNumber":
      return (v) => typeof v === "number" && v >= (operand as number);
    case "ltText":
      return (v) => typeof v === "string" && compareText(v, operand as string) < 0;
    case "lteText":
      return (v) => typeof v === "string" && compareText(v, operand as string) <= 0;
    case "gtText":
      return (v) => typeof v === "string" && compareText(v, operand as string) > 0;
    case "gteText":
      return (v) => typeof v === "string" && compareText(v, operand as string) >= 0;
  }
}

const COLUMN_VALUE: Record<Column, (r: PredicateRecord) => string | null | undefined> = {
  type: (r) => r.resource_type_id,
  kind: (r) => r.kind,
  resource: (r) => r.resource_id,
  origin: (r) => r.origin,
  member: (r) => r.actor.memberId,
  credential: (r) => r.actor.credentialId,
  actorKind: (r) => r.actor.kind,
};

/** The predicate as a function over a stored change record, compiled once per filter. */
export function toFunction(predicate: Predicate): (record: PredicateRecord) => boolean {
  switch (predicate.op) {
    case "const":
      return () => predicate.value;
    case "and": {
      const parts = predicate.of.map(toFunction);
      return (r) => parts.every((part) => part(r));
    }
    case "or": {
      const parts = predicate.of.map(toFunction);
      return (r) => parts.some((part) => part(r));
    }
    case "not": {
      const inner = toFunction(predicate.of);
      return (r) => !inner(r);
    }
    case "in": {
      const values = new Set(predicate.values);
      const read = COLUMN_VALUE[predicate.column];
      return (r) => {
        const value = read(r);
        return value != null && values.has(value);
      };
    }
    case "changed": {
      const ids = new Set(predicate.fieldIds);
      return (r) => r.fields.some((f) => ids.has(f.fieldId));
    }
    case "transition": {
      const { fieldId, from, to } = predicate;
      return (r) =>
        r.fields.some(
          (f) =>
            f.fieldId === fieldId &&
            (from === undefined || jsonEqual(f.previousValue ?? null, from)) &&
            (to === undefined || jsonEqual(f.value ?? null, to)),
        );
    }
    case "snapshot": {
      const { key } = predicate;
      const test = snapshotTest(predicate.test, predicate.operand);
      return (r) => test(r.snapshot[key]);
    }
  }
}

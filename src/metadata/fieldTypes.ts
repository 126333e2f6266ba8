import { z } from "zod";
import type { FieldType } from "./tables.ts";

export type FilterOperator =
  | "eq"
  | "ne"
  | "in"
  | "notIn"
  | "lt"
  | "lte"
  | "gt"
  | "gte"
  | "contains"
  | "startsWith"
  | "isNull";

/** A value that does not fit its field; the caller turns it into BAD_USER_INPUT naming the field. */
export class InvalidValue extends Error {}

export interface FieldShape {
  type: FieldType;
  options: string[] | null;
}

interface FieldTypeSpec {
  operators: readonly FilterOperator[];
  /** Compared as numbers in SQL (`(values->>id)::numeric`); everything else compares as text. */
  numeric?: boolean;
  /** The value is an array (LINKS, MULTI_SELECT, FILE). */
  array?: boolean;
  /** Checks and normalises one value; never receives null. */
  coerce(value: unknown, field: FieldShape): unknown;
}

export const MAX_TEXT = 10_000;
export const MAX_LONG_TEXT = 1_000_000;
export const MAX_ARRAY = 1_000;
const MAX_JSON_BYTES = 100_000;

const emailSchema = z.email();
const ID_PATTERN = /^[a-z]{2,4}_[0-9a-z]{1,40}$/;

function text(max: number) {
  return (value: unknown): string => {
    if (typeof value !== "string") throw new InvalidValue("must be a string");
    if (value.length > max) throw new InvalidValue(`must be at most ${max} characters (got ${value.length})`);
    return value;
  };
}

function number(value: unknown): number {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isFinite(n)) throw new InvalidValue("must be a finite number");
  return n;
}

function date(value: unknown): string {
  if (typeof value !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    throw new InvalidValue('must be a date "YYYY-MM-DD"');
  }
  const parsed = new Date(`${value}T00:00:00.000Z`);
  if (Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== value) {
    throw new InvalidValue(`${value} is not a calendar date`);
  }
  return value;
}

const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** ISO 8601, normalised to UTC with milliseconds; no zone means UTC. */
export function normalizeDateTime(value: unknown): string {
  if (typeof value !== "string" || !ISO_DATETIME.test(value)) {
    throw new InvalidValue("must be an ISO 8601 date-time, e.g. 2026-11-27T18:10:40.123Z");
  }
  const withZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(value) ? value : `${value}Z`;
  const parsed = new Date(withZone);
  if (Number.isNaN(parsed.getTime())) throw new InvalidValue(`${value} is not a valid date-time`);
  return parsed.toISOString();
}

function id(value: unknown): string {
  if (typeof value !== "string" || !ID_PATTERN.test(value)) throw new InvalidValue("must be an id string");
  return value;
}

function idArray(value: unknown): string[] {
  if (!Array.isArray(value)) throw new InvalidValue("must be an array of ids");
  if (value.length > MAX_ARRAY) throw new InvalidValue(`must have at most ${MAX_ARRAY} ids`);
  return [...new Set(value.map(id))];
}

function option(value: unknown, field: FieldShape): string {
  if (typeof value !== "string") throw new InvalidValue("must be one of the field's options (a string)");
  if (!field.options?.includes(value)) {
    throw new InvalidValue(
      `${JSON.stringify(value)} is not an option; options are ${JSON.stringify(field.options ?? [])}`,
    );
  }
  return value;
}

const textOps = ["eq", "ne", "in", "notIn", "contains", "startsWith", "isNull"] as const;
const orderedOps = ["eq", "ne", "in", "notIn", "lt", "lte", "gt", "gte", "isNull"] as const;

export const fieldTypes: Record<FieldType, FieldTypeSpec> = {
  TEXT: { operators: [...textOps, "lt", "lte", "gt", "gte"], coerce: text(MAX_TEXT) },
  LONG_TEXT: { operators: ["contains", "startsWith", "isNull"], coerce: text(MAX_LONG_TEXT) },
  NUMBER: { operators: orderedOps, numeric: true, coerce: number },
  INTEGER: {
    operators: orderedOps,
    numeric: true,
    coerce: (value) => {
      const n = number(value);
      if (!Number.isSafeInteger(n)) throw new InvalidValue("must be a whole number");
      return n;
    },
  },
  BOOLEAN: {
    operators: ["eq", "ne", "isNull"],
    coerce: (value) => {
      if (value === "true") return true;
      if (value === "false") return false;
      if (typeof value !== "boolean") throw new InvalidValue("must be true or false");
      return value;
    },
  },
  DATE: { operators: orderedOps, coerce: date },
  DATETIME: { operators: orderedOps, coerce: normalizeDateTime },
  EMAIL: {
    operators: textOps,
    coerce: (value) => {
      const email = text(320)(value).trim();
      if (!emailSchema.safeParse(email).success)
        throw new InvalidValue(`${JSON.stringify(value)} is not an email address`);
      return email;
    },
  },
  URL: {
    operators: textOps,
    coerce: (value) => {
      const raw = text(2048)(value).trim();
      // People type "acme.com": take it as https.
      const withScheme = /^[a-z][a-z0-9+.-]*:/i.test(raw) ? raw : `https://${raw}`;
      let url: URL;
      try {
        url = new URL(withScheme);
      } catch {
        throw new InvalidValue(`${JSON.stringify(value)} is not a URL`);
      }
      if (url.protocol !== "http:" && url.protocol !== "https:")
        throw new InvalidValue("must be an http(s) URL");
      if (!url.hostname.includes(".") && url.hostname !== "localhost") {
        throw new InvalidValue(`${JSON.stringify(value)} is not a URL`);
      }
      return withScheme;
    },
  },
  PHONE: {
    operators: textOps,
    coerce: (value) => {
      const phone = text(40)(value).trim();
      const digits = phone.replace(/\D/g, "").length;
      if (!/^\+?[0-9 ().-]+$/.test(phone) || digits < 5 || digits > 20) {
        throw new InvalidValue(`${JSON.stringify(value)} is not a phone number`);
      }
      return phone;
    },
  },
  SELECT: { operators: ["eq", "ne", "in", "notIn", "isNull"], coerce: option },
  MULTI_SELECT: {
    operators: ["eq", "contains", "isNull"],
    array: true,
    coerce: (value, field) => {
      if (!Array.isArray(value)) throw new InvalidValue("must be an array of options");
      return [...new Set(value.map((v) => option(v, field)))];
    },
  },
  REFERENCE: { operators: ["eq", "ne", "in", "notIn", "isNull"], coerce: id },
  LINKS: { operators: ["contains", "isNull"], array: true, coerce: idArray },
  MEMBER: { operators: ["eq", "ne", "in", "notIn", "isNull"], coerce: id },
  FILE: { operators: ["contains", "isNull"], array: true, coerce: idArray },
  JSON: {
    operators: ["eq", "contains", "isNull"],
    coerce: (value) => {
      const size = Buffer.byteLength(JSON.stringify(value) ?? "");
      if (size > MAX_JSON_BYTES) throw new InvalidValue(`must be at most ${MAX_JSON_BYTES} bytes of JSON`);
      return value;
    },
  },
};

/** Field types `orderBy` can sort by (arrays, JSON and long text cannot be compared meaningfully). */
export function isSortable(type: FieldType): boolean {
  return !fieldTypes[type].array && type !== "JSON" && type !== "LONG_TEXT";
}

/** The longest string each text-like type holds; a TEXT / LONG_TEXT field may set a lower `maxLength`. */
export const TEXT_LIMITS: Partial<Record<FieldType, number>> = {
  TEXT: MAX_TEXT,
  LONG_TEXT: MAX_LONG_TEXT,
  EMAIL: 320,
  URL: 2048,
  PHONE: 40,
};

/** Normalises a value for a field: null/undefined/empty arrays clear it. */
export function coerceValue(field: FieldShape, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  const spec = fieldTypes[field.type];
  const coerced = spec.coerce(value, field);
  if (Array.isArray(coerced) && coerced.length === 0) return null;
  return coerced;
}

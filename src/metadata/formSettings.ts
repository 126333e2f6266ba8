import { fail } from "../kernel/index.ts";
import { coerceValue, InvalidValue, TEXT_LIMITS } from "./fieldTypes.ts";
import type { Choice, FieldType } from "./tables.ts";

/**
 * What dynamic forms need of a field beyond its type: option labels and archived options, a
 * default, a tighter length cap and help text. Each setting is checked here before it is stored.
 */

export interface ChoiceInput {
  value: string;
  label?: string | null;
  archived?: boolean | null;
}

/** A field's settings as the checks see them (a stored field, or one about to be). */
export interface FormShape {
  type: FieldType;
  options: string[] | null;
  choices: Choice[] | null;
  maxLength: number | null;
}

const SELECTABLE: readonly FieldType[] = ["SELECT", "MULTI_SELECT"];
/** Defaults would name resources, members or files: stale or unreadable for the next writer. */
const NO_DEFAULT: readonly FieldType[] = ["REFERENCE", "LINKS", "MEMBER", "FILE"];

/** A field's choices: stored ones, or each option as its own label when none were given. */
export function choicesOf(field: { options: string[] | null; choices: Choice[] | null }): Choice[] | null {
  if (!field.options) return null;
  return field.choices ?? field.options.map((value) => ({ value, label: value, archived: false }));
}

/** The options a new write may use: every option but archived ones. */
export function activeOptions(field: {
  options: string[] | null;
  choices: Choice[] | null;
}): string[] | null {
  const choices = choicesOf(field);
  return choices ? choices.filter((c) => !c.archived).map((c) => c.value) : null;
}

/**
 * Options (plain values) or choices (values with labels and archived flags), not both. Returns the
 * columns to store: `options` holds every value, archived ones too, so stored values stay valid.
 */
export function checkChoices(
  type: FieldType,
  options: string[] | null | undefined,
  choices: ChoiceInput[] | null | undefined,
): { options: string[] | null; choices: Choice[] | null } {
  if (options && choices) throw fail.badInput("choices", "Pass options or choices, not both.");
  const argument = choices ? "choices" : "options";
  const list: Choice[] | null = choices
    ? choices.map((c) => ({ value: c.value, label: c.label ?? c.value, archived: c.archived ?? false }))
    : (options?.map((value) => ({ value, label: value, archived: false })) ?? null);
  if (!SELECTABLE.includes(type)) {
    if (list?.length)
      throw fail.badInput(argument, `${argument} apply only to SELECT and MULTI_SELECT fields.`);
    return { options: null, choices: null };
  }
  if (!list?.length) throw fail.badInput(argument, `A ${type} field needs at least one option.`);
  if (list.length > 500) throw fail.badInput(argument, "At most 500 options.");
  for (const choice of list) {
    if (!choice.value.trim() || choice.value.length > 100)
      throw fail.badInput(argument, "Each option is 1 to 100 characters.");
    if (!choice.label.trim() || choice.label.length > 200)
      throw fail.badInput(argument, "Each label is 1 to 200 characters.");
  }
  const values = list.map((c) => c.value);
  if (new Set(values).size !== values.length) throw fail.badInput(argument, "Options must be distinct.");
  if (list.every((c) => c.archived))
    throw fail.badInput(argument, "At least one option must not be archived.");
  const plain = list.every((c) => c.label === c.value && !c.archived);
  return { options: values, choices: plain ? null : list };
}

export function checkMaxLength(type: FieldType, maxLength: number | null | undefined): number | null {
  if (maxLength == null) return null;
  const limit = type === "TEXT" || type === "LONG_TEXT" ? TEXT_LIMITS[type] : undefined;
  if (limit === undefined)
    throw fail.badInput("maxLength", "maxLength applies only to TEXT and LONG_TEXT fields.");
  if (!Number.isInteger(maxLength) || maxLength < 1 || maxLength > limit)
    throw fail.badInput("maxLength", `maxLength must be between 1 and ${limit} for ${type}.`);
  return maxLength;
}

export function checkHelpText(value: string | null | undefined): string | null | undefined {
  if (value === undefined || value === null) return value;
  if (value.length > 1000) throw fail.badInput("helpText", "helpText is at most 1000 characters.");
  return value.trim() || null;
}

/** Why a value may not be written to a field beyond its type's own checks: archived option, length. */
export function writeProblem(field: FormShape, value: unknown): string | null {
  if (value === null) return null;
  if (typeof value === "string" && field.maxLength != null && value.length > field.maxLength)
    return `must be at most ${field.maxLength} characters (got ${value.length})`;
  const choices = field.choices;
  if (choices && SELECTABLE.includes(field.type)) {
    const archived = (Array.isArray(value) ? value : [value]).filter((v) =>
      choices.some((c) => c.archived && c.value === v),
    );
    if (archived.length > 0)
      return `${JSON.stringify(archived[0])} is an archived option; new values use ${JSON.stringify(activeOptions(field))}`;
  }
  return null;
}

/** A default, checked as a write of the field would be; null clears it. */
export function checkDefault(field: FormShape, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (NO_DEFAULT.includes(field.type))
    throw fail.badInput("defaultValue", `${field.type} fields cannot have a default.`);
  let coerced: unknown;
  try {
    coerced = coerceValue(field, value);
  } catch (error) {
    if (error instanceof InvalidValue) throw fail.badInput("defaultValue", `defaultValue ${error.message}.`);
    throw error;
  }
  const problem = writeProblem(field, coerced);
  if (problem) throw fail.badInput("defaultValue", `defaultValue ${problem}.`);
  return coerced;
}

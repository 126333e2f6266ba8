import type { SQL } from "drizzle-orm";
import type { Actor } from "../auth/index.ts";
import { AppError, fail } from "../kernel/index.ts";
import {
  type Catalog,
  coerceValue,
  type FieldDef,
  type FilterOperator,
  fieldTypes,
  InvalidValue,
  readableField,
  readableTypes,
  type TypeDef,
  visibleType,
} from "../metadata/index.ts";
import {
  checkOperator,
  filterOperand,
  MAX_IN,
  type ResourceFilter,
  resolveFilterField,
  type Sortable,
  walkFilter,
} from "./filters.ts";

import {
  and,
  FALSE,
  not,
  or,
  type Predicate,
  type PredicateRecord,
  type SnapshotTest,
  TRUE,
  toFunction,
  toSql,
} from "./predicate.ts";
import type { ChangeKind } from "./record.ts";
import type { ActorSet, ChangeTransition } from "./tables.ts";

export type { ActorSet, ChangeTransition } from "./tables.ts";

/** The `ChangeFilter` input: every part given must match (docs/changes-and-webhooks.md). */
export interface ChangeFilter {
  types?: string[] | null;
  kinds?: ChangeKind[] | null;
  fields?: string[] | null;
  resourceIds?: string[] | null;
  where?: ResourceFilter | null;
  transitions?: ChangeTransition[] | null;
  excludeActors?: ActorSet | null;
  excludeSelf?: boolean | null;
  origins?: string[] | null;
  excludeOrigins?: string[] | null;
}

/**
 * A filter resolved for one reader against one catalog: the same predicate as SQL (feed pages,
 * webhooks) and as a function over a stored record (the subscription tail). It always includes
 * "a type the reader can read", so it never matches what trimming would hide entirely.
 */
export interface ResolvedFilter {
  predicate: Predicate;
  sql: SQL;
  matches(record: PredicateRecord): boolean;
}

export function compiled(predicate: Predicate): ResolvedFilter {
  return { predicate, sql: toSql(predicate), matches: toFunction(predicate) };
}

/** For filters that lost their meaning (a field went out of sight): nothing, rather than leak. */
export const MATCH_NOTHING: ResolvedFilter = compiled(FALSE);

const MAX_LIST = 100;
const MAX_TRANSITIONS = 20;

/**
 * What `excludeSelf` stands for: the reader's API key or OAuth client when it uses one (an
 * integration excludes its own writes, not those its member makes elsewhere), its member when it
 * signed in with a password.
 */
export function selfExclusion(actor: Actor): ActorSet {
  const { credential } = actor;
  if (credential.kind === "api_key" && credential.id) return { credentialIds: [credential.id] };
  if (credential.kind === "oauth" && credential.id) return { oauthClientIds: [credential.id] };
  return { memberIds: [actor.memberId] };
}

function list(values: string[] | null | undefined, argument: string): string[] | null {
  if (!values?.length) return null;
  if (values.length > MAX_LIST)
    throw fail.badInput(argument, `${argument} takes at most ${MAX_LIST} values.`);
  return values;
}

/** A field key's readable definitions on the filtered types; none is BAD_USER_INPUT naming it. */
function readableDefs(
  catalog: Catalog,
  actor: Actor,
  types: TypeDef[],
  key: string,
  argument: string,
): FieldDef[] {
  const defs = types.flatMap((type) => readableField(catalog, actor, type, key) ?? []);
  if (defs.length === 0)
    throw fail.badInput(argument, `Unknown field ${JSON.stringify(key)} on the filtered types.`);
  return defs;
}

/** One `where` leaf over the change's snapshot, with the same operators and operand checks as resources. */
function snapshotLeaf(target: Sortable, op: FilterOperator, raw: unknown, argument: string): Predicate {
  checkOperator(target, op, argument);
  if (target.kind === "id") {
    const values = op === "in" || op === "notIn" ? checkedList(raw, op, argument) : [raw];
    const ids = values.map((v) => filterOperand(target, v, argument, op) as string);
    const match: Predicate = { op: "in", column: "resource", values: ids };
    return op === "ne" || op === "notIn" ? not(match) : match;
  }
  const { field } = target;
  const spec = fieldTypes[field.type];
  const key = field.key;
  const test = (test: SnapshotTest, operand: unknown = null): Predicate => ({
    op: "snapshot",
    key,
    test,
    operand,
  });
  const equals = (value: unknown) => test("eq", filterOperand(target, value, argument, op));
  switch (op) {
    case "isNull":
      if (typeof raw !== "boolean") throw fail.badInput(argument, "isNull takes true or false.");
      return test(raw ? "isNull" : "notNull");
    case "eq":
      return equals(raw);
    case "ne":
      return not(equals(raw));
    case "in":
      return or(...checkedList(raw, op, argument).map(equals));
    case "notIn":
      return not(or(...checkedList(raw, op, argument).map(equals)));
    case "lt":
    case "lte":
    case "gt":
    case "gte":
      return test(
        `${op}${spec.numeric ? "Number" : "Text"}` as SnapshotTest,
        filterOperand(target, raw, argument, op),
      );
    case "contains": {
      // A JSON field contains a sub-value of any JSON type, not only text.
      const value =
        field.type === "JSON" ? jsonOperand(field, raw, argument) : filterOperand(target, raw, argument, op);
      return test(spec.array || field.type === "JSON" ? "contains" : "textContains", value);
    }
    case "startsWith":
      return test("startsWith", filterOperand(target, raw, argument, op));
  }
}

function jsonOperand(field: FieldDef, raw: unknown, argument: string): unknown {
  try {
    return coerceValue(field, raw);
  } catch (error) {
    if (error instanceof InvalidValue)
      throw fail.badInput(argument, `${field.key} contains: ${error.message}.`);
    throw error;
  }
}

function checkedList(raw: unknown, op: string, argument: string): unknown[] {
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_IN)
    throw fail.badInput(argument, `${op} takes 1 to ${MAX_IN} values.`);
  return raw;
}

/**
 * `where` per filtered type: field keys resolve on each type separately; a type on which a named
 * field does not exist or is hidden from the reader cannot match (so hidden values never decide a
 * match). When no type has every named field, the filter is refused, naming the field.
 */
function whereOnTypes(
  catalog: Catalog,
  actor: Actor,
  types: TypeDef[],
  where: ResourceFilter,
  argument: string,
): Predicate {
  // The error to report: from a type that has the named fields (a bad operand) rather than one
  // that lacks them, when there is one.
  let firstError: AppError | null = null;
  const alternatives: Predicate[] = [];
  for (const type of types) {
    try {
      const predicate = walkFilter<Predicate>(
        where,
        {
          leaf: (key, op, value) =>
            snapshotLeaf(resolveFilterField(catalog, actor, type, key, key), op, value, key),
          and: (parts) => and(...parts),
          or: (parts) => or(...parts),
          not,
          always: TRUE,
        },
        argument,
      );
      alternatives.push(and({ op: "in", column: "type", values: [type.id] }, predicate));
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      const missing = error.message.startsWith("Unknown field");
      if (!firstError || (firstError.message.startsWith("Unknown field") && !missing)) firstError = error;
    }
  }
  if (alternatives.length === 0 && firstError) {
    // No filtered type has the field: name them all, not just the first one tried.
    if (types.length > 1 && firstError.message.startsWith("Unknown field")) {
      const field = firstError.extensions.field;
      throw fail.badInput(
        typeof field === "string" ? field : argument,
        `Unknown field ${JSON.stringify(field)}: none of the filtered types (${types.map((t) => t.key).join(", ")}) has it; see resourceType(key).fields.`,
      );
    }
    throw firstError;
  }
  return or(...alternatives);
}

function transitionValue(field: FieldDef, value: unknown, argument: string): unknown {
  if (value === undefined) return undefined;
  try {
    return coerceValue(field, value);
  } catch (error) {
    if (error instanceof InvalidValue) throw fail.badInput(argument, `${field.key}: ${error.message}.`);
    throw error;
  }
}

function transitionsOn(
  catalog: Catalog,
  actor: Actor,
  types: TypeDef[],
  transitions: ChangeTransition[],
  argument: string,
): Predicate {
  if (transitions.length > MAX_TRANSITIONS)
    throw fail.badInput(argument, `A filter has at most ${MAX_TRANSITIONS} transitions.`);
  // Each transition must hold (several describe one change: "status became done and owner became me").
  return and(
    ...transitions.map((transition, i) => {
      const path = `${argument}[${i}].field`;
      const defs = readableDefs(catalog, actor, types, transition.field, path);
      return or(
        ...defs.map(
          (field): Predicate => ({
            op: "transition",
            fieldId: field.id,
            from: transitionValue(field, transition.from, `${argument}[${i}].from`),
            to: transitionValue(field, transition.to, `${argument}[${i}].to`),
          }),
        ),
      );
    }),
  );
}

function excludeActors(set: ActorSet, argument: string): Predicate {
  const members = list(set.memberIds, `${argument}.memberIds`);
  const credentials = list(set.credentialIds, `${argument}.credentialIds`);
  const clients = list(set.oauthClientIds, `${argument}.oauthClientIds`);
  return and(
    members ? not({ op: "in", column: "member", values: members }) : TRUE,
    credentials ? not({ op: "in", column: "credential", values: credentials }) : TRUE,
    clients
      ? not(
          and(
            { op: "in", column: "actorKind", values: ["oauth"] },
            { op: "in", column: "credential", values: clients },
          ),
        )
      : TRUE,
  );
}

/** Two actor sets as one (excludeSelf adds the reader to excludeActors). */
export function mergeActorSets(a: ActorSet | null | undefined, b: ActorSet | null | undefined): ActorSet {
  const merged = (x?: string[] | null, y?: string[] | null) => [...new Set([...(x ?? []), ...(y ?? [])])];
  return {
    memberIds: merged(a?.memberIds, b?.memberIds),
    credentialIds: merged(a?.credentialIds, b?.credentialIds),
    oauthClientIds: merged(a?.oauthClientIds, b?.oauthClientIds),
  };
}

/**
 * Resolves a `ChangeFilter` for a reader: types, fields and field values it names must be readable
 * by them (else BAD_USER_INPUT naming the field, exactly as if they did not exist), and the result
 * only ever matches changes of types they can read.
 */
export function resolveChangeFilter(
  catalog: Catalog,
  actor: Actor,
  filter: ChangeFilter | null | undefined,
  argument = "filter",
): ResolvedFilter {
  const types = filter?.types?.length
    ? filter.types.map((key) => visibleType(catalog, actor, key, `${argument}.types`))
    : readableTypes(catalog, actor);
  const parts: Predicate[] = [{ op: "in", column: "type", values: types.map((t) => t.id) }];
  if (filter?.kinds?.length) parts.push({ op: "in", column: "kind", values: filter.kinds });
  // resourceIds keeps taking lists of any length, as it always has; the newer lists are bounded.
  if (filter?.resourceIds?.length) parts.push({ op: "in", column: "resource", values: filter.resourceIds });
  if (filter?.fields?.length) {
    const fieldIds = filter.fields.flatMap((key) =>
      readableDefs(catalog, actor, types, key, `${argument}.fields`).map((f) => f.id),
    );
    parts.push({ op: "changed", fieldIds });
  }
  if (filter?.where) parts.push(whereOnTypes(catalog, actor, types, filter.where, `${argument}.where`));
  if (filter?.transitions?.length)
    parts.push(transitionsOn(catalog, actor, types, filter.transitions, `${argument}.transitions`));
  const excluded = filter?.excludeSelf
    ? mergeActorSets(filter.excludeActors, selfExclusion(actor))
    : filter?.excludeActors;
  if (excluded) parts.push(excludeActors(excluded, `${argument}.excludeActors`));
  const origins = list(filter?.origins, `${argument}.origins`);
  if (origins) parts.push({ op: "in", column: "origin", values: origins });
  const excludeOrigins = list(filter?.excludeOrigins, `${argument}.excludeOrigins`);
  if (excludeOrigins) parts.push(not({ op: "in", column: "origin", values: excludeOrigins }));
  return compiled(and(...parts));
}

/** Every stored change of every type: what the subscription tail keeps for its subscribers. */
export function everyChange(catalog: Catalog): ResolvedFilter {
  return compiled({ op: "in", column: "type", values: catalog.types.map((t) => t.id) });
}

import { type SQL, sql } from "drizzle-orm";
import type { Actor, Role } from "../auth/index.ts";
import { fail } from "../kernel/index.ts";
import type { Catalog, FieldDef, TypeDef } from "./catalog.ts";
import { sqlIdLiteral } from "./fieldIndexes.ts";
import type { Access } from "./tables.ts";

/**
 * The one access policy (docs/architecture.md, invariant 4). Every read and write of resources, the changes
 * feed, subscriptions, webhook deliveries and introspection ask this module what an actor may do.
 */

const rank: Record<Access, number> = { NONE: 0, READ: 1, WRITE: 2 };
const min = (a: Access, b: Access): Access => (rank[a] <= rank[b] ? a : b);

/** Owners, admins and members write everything by default; viewers read. */
export function defaultAccess(role: Role): Access {
  return role === "VIEWER" ? "READ" : "WRITE";
}

/** The credential's scopes cap what the role allows: no WRITE scope → at most READ. */
function scopeCap(actor: Actor): Access {
  if (actor.scopes.includes("WRITE")) return "WRITE";
  return actor.scopes.includes("READ") ? "READ" : "NONE";
}

/**
 * What the policy's answers for one catalog depend on besides it: the role and the scopes' cap.
 * Memos of those answers (readableFields, rendered reads' statements) key on it.
 */
export const policyKey = (actor: Actor) => `${actor.role}:${scopeCap(actor)}`;

export function roleTypeAccess(catalog: Catalog, role: Role, type: TypeDef): Access {
  if (role === "OWNER") return "WRITE"; // owners cannot be locked out of their own workspace
  return catalog.typeAccess.get(type.id)?.get(role) ?? defaultAccess(role);
}

export function typeAccessFor(catalog: Catalog, actor: Actor, type: TypeDef): Access {
  return min(roleTypeAccess(catalog, actor.role, type), scopeCap(actor));
}

/**
 * createdAt and updatedAt are part of every resource a reader sees (`Resource.createdAt` and
 * `updatedAt` are non-null), so no field rule hides them; setFieldAccess refuses NONE for them.
 */
export function alwaysReadable(field: FieldDef): boolean {
  return field.column === "created_at" || field.column === "updated_at";
}

export function fieldAccessFor(catalog: Catalog, actor: Actor, field: FieldDef): Access {
  const type = catalog.typesById.get(field.resourceTypeId);
  if (!type) return "NONE";
  let access = typeAccessFor(catalog, actor, type);
  if (actor.role !== "OWNER" && !alwaysReadable(field))
    access = min(access, catalog.fieldAccess.get(field.id)?.get(actor.role) ?? "WRITE");
  if (field.readOnly) access = min(access, "READ");
  // A reference (REFERENCE, LINKS, `parent`) into a type the actor cannot read holds ids of
  // resources that do not exist for them and names that type: the field does not exist either.
  if (access !== "NONE" && field.referenceTypeId) {
    const target = catalog.typesById.get(field.referenceTypeId);
    if (!target || !canReadType(catalog, actor, target)) return "NONE";
  }
  return access;
}

export const canReadType = (c: Catalog, a: Actor, t: TypeDef) => typeAccessFor(c, a, t) !== "NONE";
export const canWriteType = (c: Catalog, a: Actor, t: TypeDef) => typeAccessFor(c, a, t) === "WRITE";
export const canReadField = (c: Catalog, a: Actor, f: FieldDef) => fieldAccessFor(c, a, f) !== "NONE";
export const canWriteField = (c: Catalog, a: Actor, f: FieldDef) => fieldAccessFor(c, a, f) === "WRITE";

/**
 * Whether the actor may read a stored resource: a live one (deleted resources are reached only by
 * restoring them) of a type it can read. Otherwise, for this actor, the resource does not exist.
 */
export function canReadResource(
  catalog: Catalog,
  actor: Actor,
  row: { typeId: string; deletedAt: string | Date | null },
): boolean {
  const type = catalog.typesById.get(row.typeId);
  return row.deletedAt === null && type !== undefined && canReadType(catalog, actor, type);
}

/**
 * `canReadResource` as SQL, for a statement over `resources` (as `alias`): the rows that exist for
 * this actor — in its workspace, live, of a type it can read; of `types` only when given (those it
 * cannot read are left out). One type is spelled as a literal: the planner uses a partial index
 * (the type's sort and unique indexes) only for a query that repeats its predicate's text.
 */
export function readableResourcesSql(
  catalog: Catalog,
  actor: Actor,
  options: { alias?: string; types?: readonly TypeDef[] } = {},
): SQL {
  const column = (name: string) => `"${options.alias ?? "resources"}"."${name}"`;
  const typeIds = (options.types ?? catalog.types)
    .filter((type) => canReadType(catalog, actor, type))
    .map((type) => type.id);
  const ofType =
    typeIds.length === 1
      ? sql.raw(`${column("type_id")} = ${sqlIdLiteral(typeIds[0] as string)}`)
      : sql`${sql.raw(column("type_id"))} = any(${sql.param(typeIds)}::text[])`;
  return sql`${sql.raw(column("workspace_id"))} = ${actor.workspaceId} and ${ofType} and ${sql.raw(`${column("deleted_at")} is null`)}`;
}

export function readableTypes(catalog: Catalog, actor: Actor): TypeDef[] {
  return catalog.types.filter((type) => canReadType(catalog, actor, type));
}

/**
 * Memo of readableFields: a catalog is an immutable snapshot and field access depends only on the
 * role and whether the scopes allow reading, so a page of rows asks once, not once per row and field.
 */
const readableMemo = new WeakMap<Catalog, Map<string, FieldDef[]>>();

/** The fields of a type the actor may read, in the type's order (shared array: do not mutate). */
export function readableFields(catalog: Catalog, actor: Actor, type: TypeDef): readonly FieldDef[] {
  let byKey = readableMemo.get(catalog);
  if (!byKey) {
    byKey = new Map();
    readableMemo.set(catalog, byKey);
  }
  const key = `${type.id}:${policyKey(actor)}`;
  let fields = byKey.get(key);
  if (!fields) {
    fields = type.fields.filter((field) => canReadField(catalog, actor, field));
    byKey.set(key, fields);
  }
  return fields;
}

/** A field by key if the actor may read it; for values shown outside `values` (name, parent, …). */
export function readableField(
  catalog: Catalog,
  actor: Actor,
  type: TypeDef,
  key: string,
): FieldDef | undefined {
  const field = type.fieldsByKey.get(key);
  return field && canReadField(catalog, actor, field) ? field : undefined;
}

/**
 * The types whose resources can be someone's children for the actor: readable types whose
 * `parent` field it may read (a hidden parent field means the relationship does not exist).
 */
export function childTypes(catalog: Catalog, actor: Actor): TypeDef[] {
  return readableTypes(catalog, actor).filter((type) => readableField(catalog, actor, type, "parent"));
}

/** The fields of a type the actor may write (what a copy made by the actor carries over). */
export function writableFields(catalog: Catalog, actor: Actor, type: TypeDef): FieldDef[] {
  return type.fields.filter((field) => canWriteField(catalog, actor, field));
}

/** A type by key as the actor sees it: unreadable types do not exist (BAD_USER_INPUT naming `field`). */
export function visibleType(catalog: Catalog, actor: Actor, key: string, argument = "type"): TypeDef {
  const type = catalog.typesByKey.get(key);
  if (!type || !canReadType(catalog, actor, type)) {
    throw fail.badInput(
      argument,
      `Unknown resource type ${JSON.stringify(key)}; see resourceTypes for the keys.`,
    );
  }
  return type;
}

/** A field by key as the actor sees it: unreadable fields do not exist. */
export function visibleField(
  catalog: Catalog,
  actor: Actor,
  type: TypeDef,
  key: string,
  argument = key,
): FieldDef {
  const field = type.fieldsByKey.get(key);
  if (!field || !canReadField(catalog, actor, field)) {
    throw fail.badInput(
      argument,
      `Unknown field ${JSON.stringify(key)} on type ${type.key}; see resourceType(key).fields.`,
    );
  }
  return field;
}

/** The writer's check before changing a type's resources. */
export function assertCanWriteType(catalog: Catalog, actor: Actor, type: TypeDef): void {
  if (!canWriteType(catalog, actor, type)) {
    if (!actor.scopes.includes("WRITE")) {
      throw fail.forbidden("This credential is read-only (no WRITE scope); use one that grants WRITE.");
    }
    throw fail.forbidden(`Your role may not change ${type.pluralName.toLowerCase()}.`);
  }
}

export function assertCanWriteField(catalog: Catalog, actor: Actor, field: FieldDef): void {
  if (!canWriteField(catalog, actor, field)) {
    const message = field.readOnly
      ? `Field ${field.key} is read-only.`
      : `Your role may not change the field ${field.key}.`;
    throw fail.forbidden(message);
  }
}

export interface Capabilities {
  create: boolean;
  update: boolean;
  delete: boolean;
  copy: boolean;
  link: boolean;
  assign: boolean;
  move: boolean;
}

/** What the actor may do with a type's resources (ResourceType.capabilities). */
export function capabilitiesFor(catalog: Catalog, actor: Actor, type: TypeDef): Capabilities {
  const write = canWriteType(catalog, actor, type);
  const writable = (key: string) => {
    const field = type.fieldsByKey.get(key);
    return write && !!field && canWriteField(catalog, actor, field);
  };
  return {
    create: write,
    update: write,
    delete: write,
    copy: write,
    link: write && type.fields.some((f) => f.type === "LINKS" && canWriteField(catalog, actor, f)),
    assign: writable("assignee"),
    move: writable("parent"),
  };
}

import { eq, sql } from "drizzle-orm";
import type { Role } from "../auth/index.ts";
import { type Actor, isUniqueViolation, requireAdmin, requireScope } from "../auth/index.ts";
import { type Db, fail, newId, queryRows } from "../kernel/index.ts";
import type { Catalog, CatalogStore, FieldDef, TypeDef } from "./catalog.ts";
import { createFieldIndexes, dropFieldIndexes, UNIQUE_TYPES } from "./fieldIndexes.ts";
import {
  type ChoiceInput,
  checkChoices,
  checkDefault,
  checkHelpText,
  checkMaxLength,
} from "./formSettings.ts";
import {
  alwaysReadable,
  canReadField,
  canReadType,
  readableTypes,
  visibleField,
  visibleType,
} from "./policy.ts";
import type { SchemaEvent } from "./schemaEvents.ts";
import { systemFieldRows } from "./seed.ts";
import { reservedFieldKeys } from "./systemFields.ts";
import {
  type Access,
  type FieldType,
  fieldAccess,
  fields,
  resourceTypes,
  type SchemaChangeKind,
  typeAccess,
} from "./tables.ts";

const KEY_PATTERN = /^[a-z][a-zA-Z0-9_]{0,62}$/;
const RESERVED_TYPE_KEYS = new Set([
  "resource",
  "resources",
  "node",
  "schema",
  "change",
  "changes",
  "member",
  "webhook",
]);

function checkKey(key: string, argument = "key"): void {
  if (!KEY_PATTERN.test(key)) {
    throw fail.badInput(
      argument,
      `${JSON.stringify(key.slice(0, 80))} is not a valid key: use ^[a-z][a-zA-Z0-9_]{0,62}$.`,
    );
  }
}

function checkLabel(value: string | null | undefined, argument: string, max = 100): string | undefined {
  if (value == null) return undefined;
  const trimmed = value.trim();
  if (!trimmed || trimmed.length > max)
    throw fail.badInput(argument, `${argument} must be 1 to ${max} characters.`);
  return trimmed;
}

function checkDescription(value: string | null | undefined): string | null | undefined {
  if (value === undefined) return undefined;
  if (value !== null && value.length > 2000)
    throw fail.badInput("description", "description is at most 2000 characters.");
  return value;
}

export interface CreateFieldInput {
  resourceType: string;
  key: string;
  name: string;
  type: FieldType;
  description?: string | null;
  required?: boolean | null;
  unique?: boolean | null;
  options?: string[] | null;
  choices?: ChoiceInput[] | null;
  referenceType?: string | null;
  defaultValue?: unknown;
  maxLength?: number | null;
  helpText?: string | null;
}

export interface UpdateFieldInput {
  resourceType: string;
  key: string;
  name?: string | null;
  description?: string | null;
  required?: boolean | null;
  options?: string[] | null;
  choices?: ChoiceInput[] | null;
  /** Absent: unchanged; null: no default. */
  defaultValue?: unknown;
  maxLength?: number | null;
  helpText?: string | null;
}

/** A schema change a metadata write declares; resolved to ids and readable roles before it is recorded. */
interface PendingEvent {
  kind: SchemaChangeKind;
  typeKey: string;
  fieldKey?: string;
  role?: Role;
  access?: Access;
}
type Emit = (event: PendingEvent) => void;

/**
 * What deleting a type or field does to the resources rows, in the metadata transaction. The
 * ledger is their only writer and sits above metadata, so server/ wiring passes it in.
 */
export interface ResourceRowHooks {
  deleteTypeRows(tx: Db, typeId: string): Promise<void>;
  dropFieldValues(tx: Db, typeId: string, fieldId: string): Promise<void>;
}

/** Records schema changes (and enqueues their webhook deliveries) in the metadata transaction. */
export type SchemaChangeHook = (tx: Db, actor: Actor, events: SchemaEvent[]) => Promise<void>;

const ROLES: readonly Role[] = ["OWNER", "ADMIN", "MEMBER", "VIEWER"];

/** The roles that can read a type (and field) in a catalog, for any credential that may read. */
function readableRoles(catalog: Catalog, type: TypeDef, field: FieldDef | undefined): Role[] {
  return ROLES.filter((role) => {
    const reader = { role, scopes: ["READ"] } as unknown as Actor;
    return canReadType(catalog, reader, type) && (!field || canReadField(catalog, reader, field));
  });
}

function resolveEvent(event: PendingEvent, catalog: Catalog): SchemaEvent {
  const type = catalog.typesByKey.get(event.typeKey);
  if (!type) throw new Error(`schema change of unknown type ${event.typeKey}`);
  const field = event.fieldKey ? type.fieldsByKey.get(event.fieldKey) : undefined;
  return {
    kind: event.kind,
    typeId: type.id,
    typeKey: type.key,
    fieldId: field?.id ?? null,
    fieldKey: field?.key ?? null,
    role: event.role ?? null,
    access: event.access ?? null,
    readableRoles: readableRoles(catalog, type, field),
  };
}

/** Resource types and fields: introspection for everyone, definitions for owners and admins. */
export class MetadataService {
  constructor(
    private readonly db: Db,
    readonly catalogs: CatalogStore,
    private readonly resourceRows: ResourceRowHooks,
    private readonly onSchemaChange: SchemaChangeHook = async () => {},
  ) {}

  catalog(actor: Actor): Promise<Catalog> {
    return this.catalogs.get(actor.workspaceId);
  }

  async listTypes(actor: Actor): Promise<TypeDef[]> {
    requireScope(actor, "READ");
    return readableTypes(await this.catalog(actor), actor);
  }

  async findType(actor: Actor, key: string): Promise<TypeDef | null> {
    requireScope(actor, "READ");
    const catalog = await this.catalog(actor);
    try {
      return visibleType(catalog, actor, key);
    } catch {
      return null;
    }
  }

  /**
   * One metadata write: under the workspace's metadata lock, with the schema changes it emits
   * recorded in the same transaction — deletions as the catalog was, the rest as it now is.
   */
  private async mutate<T>(
    actor: Actor,
    run: (tx: Db, catalog: Catalog, emit: Emit) => Promise<T>,
  ): Promise<T> {
    requireAdmin(actor);
    try {
      return await this.db.transaction(async (tx) => {
        // Serialise metadata changes per workspace (keys, indexes, versions stay consistent).
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`metadata:${actor.workspaceId}`}))`);
        const catalog = await this.catalogs.get(actor.workspaceId, tx);
        const pending: PendingEvent[] = [];
        const result = await run(tx, catalog, (event) => pending.push(event));
        const deletion = (e: PendingEvent) => e.kind === "TYPE_DELETED" || e.kind === "FIELD_DELETED";
        const after = pending.every(deletion) ? catalog : await this.catalogs.get(actor.workspaceId, tx);
        const events = pending.map((e) => resolveEvent(e, deletion(e) ? catalog : after));
        if (events.length > 0) await this.onSchemaChange(tx, actor, events);
        await this.catalogs.bump(tx, actor.workspaceId);
        return result;
      });
    } finally {
      this.catalogs.forget(actor.workspaceId);
    }
  }

  private async touchType(tx: Db, typeId: string): Promise<void> {
    await tx.update(resourceTypes).set({ updatedAt: sql`now()` }).where(eq(resourceTypes.id, typeId));
  }

  async createType(
    actor: Actor,
    input: {
      key: string;
      name: string;
      pluralName?: string | null;
      description?: string | null;
      parentType?: string | null;
    },
  ): Promise<string> {
    checkKey(input.key);
    if (RESERVED_TYPE_KEYS.has(input.key))
      throw fail.badInput("key", `${input.key} is reserved; choose another key.`);
    const name = checkLabel(input.name, "name") as string;
    const pluralName = checkLabel(input.pluralName ?? `${name}s`, "pluralName") as string;
    const description = checkDescription(input.description) ?? null;
    return this.mutate(actor, async (tx, catalog, emit) => {
      if (catalog.typesByKey.has(input.key)) {
        throw fail.conflict(`A resource type with key ${input.key} already exists.`, { field: "key" });
      }
      const id = newId("resourceType");
      const parentTypeId = input.parentType
        ? visibleType(catalog, actor, input.parentType, "parentType").id
        : id;
      await tx.insert(resourceTypes).values({
        id,
        workspaceId: actor.workspaceId,
        key: input.key,
        name,
        pluralName,
        description,
        parentTypeId,
      });
      await tx.insert(fields).values(systemFieldRows(actor.workspaceId, id, parentTypeId));
      emit({ kind: "TYPE_CREATED", typeKey: input.key });
      return input.key;
    });
  }

  async updateType(
    actor: Actor,
    input: { key: string; name?: string | null; pluralName?: string | null; description?: string | null },
  ): Promise<string> {
    const name = checkLabel(input.name, "name");
    const pluralName = checkLabel(input.pluralName, "pluralName");
    const description = checkDescription(input.description);
    return this.mutate(actor, async (tx, catalog, emit) => {
      const type = visibleType(catalog, actor, input.key, "key");
      await tx
        .update(resourceTypes)
        .set({ name, pluralName, description, updatedAt: sql`now()` })
        .where(eq(resourceTypes.id, type.id));
      emit({ kind: "TYPE_UPDATED", typeKey: type.key });
      return type.key;
    });
  }

  /** Deletes a custom type; with resources it needs `force`, and types referring to it must go first. */
  async deleteType(
    actor: Actor,
    input: { key: string; force?: boolean | null },
    deleteResources: (tx: Db, catalog: Catalog, type: TypeDef) => Promise<void>,
  ): Promise<string> {
    return this.mutate(actor, async (tx, catalog, emit) => {
      const type = visibleType(catalog, actor, input.key, "key");
      if (type.system) throw fail.badInput("key", `${type.key} is a built-in type and cannot be deleted.`);
      const dependents = catalog.types.flatMap((other) =>
        other.id === type.id
          ? []
          : [
              ...(other.parentTypeId === type.id ? [`${other.key} (parent type)`] : []),
              ...other.fields
                .filter((f) => f.referenceTypeId === type.id)
                .map((f) => `${other.key}.${f.key}`),
            ],
      );
      if (dependents.length > 0) {
        throw fail.badInput(
          "key",
          `Other types refer to ${type.key}: ${dependents.join(", ")}. Remove those first.`,
        );
      }
      const [row] = await queryRows<{ n: number }>(
        tx,
        sql`select count(*)::int as n from resources where type_id = ${type.id} and deleted_at is null`,
      );
      if ((row?.n ?? 0) > 0 && !input.force) {
        throw fail.badInput(
          "force",
          `${type.key} still has ${row?.n} resources; pass force: true to delete them too.`,
        );
      }
      await deleteResources(tx, catalog, type);
      for (const field of type.fields) await dropFieldIndexes(tx, field.id);
      await this.resourceRows.deleteTypeRows(tx, type.id);
      await tx.delete(resourceTypes).where(eq(resourceTypes.id, type.id));
      emit({ kind: "TYPE_DELETED", typeKey: type.key });
      return type.id;
    });
  }

  async createField(actor: Actor, input: CreateFieldInput): Promise<{ typeKey: string; key: string }> {
    checkKey(input.key);
    if (reservedFieldKeys.has(input.key))
      throw fail.badInput("key", `${input.key} is reserved; choose another key.`);
    const name = checkLabel(input.name, "name") as string;
    const description = checkDescription(input.description) ?? null;
    const { options, choices } = checkChoices(input.type, input.options, input.choices);
    const maxLength = checkMaxLength(input.type, input.maxLength);
    const helpText = checkHelpText(input.helpText) ?? null;
    const defaultValue = checkDefault({ type: input.type, options, choices, maxLength }, input.defaultValue);
    if (input.unique && defaultValue !== null)
      throw fail.badInput(
        "defaultValue",
        "A unique field cannot have a default (every new resource would share it).",
      );
    if (input.unique && !UNIQUE_TYPES.includes(input.type)) {
      throw fail.badInput("unique", `${input.type} fields cannot be unique.`);
    }
    return this.mutate(actor, async (tx, catalog, emit) => {
      const type = visibleType(catalog, actor, input.resourceType, "resourceType");
      if (type.fieldsByKey.has(input.key)) {
        throw fail.conflict(`${type.key} already has a field ${input.key}.`, { field: "key" });
      }
      if (type.fields.length >= 500) throw fail.badInput("key", "A type has at most 500 fields.");
      let referenceTypeId: string | null = null;
      if (input.type === "REFERENCE" || input.type === "LINKS") {
        if (!input.referenceType)
          throw fail.badInput("referenceType", `A ${input.type} field needs referenceType.`);
        referenceTypeId = visibleType(catalog, actor, input.referenceType, "referenceType").id;
      } else if (input.referenceType) {
        throw fail.badInput("referenceType", "referenceType applies only to REFERENCE and LINKS fields.");
      }
      const field = {
        id: newId("field"),
        workspaceId: actor.workspaceId,
        resourceTypeId: type.id,
        key: input.key,
        name,
        description,
        type: input.type,
        required: input.required ?? false,
        unique: input.unique ?? false,
        options,
        choices,
        defaultValue,
        maxLength,
        helpText,
        referenceTypeId,
        position: 1000 + type.fields.length,
      };
      await tx.insert(fields).values(field);
      try {
        await tx.transaction((savepoint) => createFieldIndexes(savepoint, field));
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw fail.badInput(
            "unique",
            `Existing ${type.pluralName.toLowerCase()} have duplicate ${input.key} values.`,
          );
        }
        throw error;
      }
      await this.touchType(tx, type.id);
      emit({ kind: "FIELD_CREATED", typeKey: type.key, fieldKey: input.key });
      return { typeKey: type.key, key: input.key };
    });
  }

  async updateField(actor: Actor, input: UpdateFieldInput): Promise<{ typeKey: string; key: string }> {
    const name = checkLabel(input.name, "name");
    const description = checkDescription(input.description);
    return this.mutate(actor, async (tx, catalog, emit) => {
      const type = visibleType(catalog, actor, input.resourceType, "resourceType");
      const field = visibleField(catalog, actor, type, input.key, "key");
      const settings = [input.required, input.options, input.choices, input.defaultValue, input.maxLength];
      if (field.column && settings.some((v) => v !== undefined && v !== null)) {
        throw fail.badInput(
          "key",
          `${field.key} is a system field: only its name, description and help text can change.`,
        );
      }
      const next = formUpdate(field, input);
      if (next.defaultValue !== null && field.unique)
        throw fail.badInput(
          "defaultValue",
          "A unique field cannot have a default (every new resource would share it).",
        );
      await tx
        .update(fields)
        .set({
          name,
          description,
          required: input.required ?? undefined,
          ...next,
          helpText: checkHelpText(input.helpText),
          updatedAt: sql`now()`,
        })
        .where(eq(fields.id, field.id));
      await this.touchType(tx, type.id);
      emit({ kind: "FIELD_UPDATED", typeKey: type.key, fieldKey: field.key });
      return { typeKey: type.key, key: field.key };
    });
  }

  /** Deletes a custom field and its values (no per-resource changes: it is a schema change). */
  async deleteField(actor: Actor, input: { resourceType: string; key: string }): Promise<string> {
    return this.mutate(actor, async (tx, catalog, emit) => {
      const type = visibleType(catalog, actor, input.resourceType, "resourceType");
      const field = visibleField(catalog, actor, type, input.key, "key");
      if (field.system) throw fail.badInput("key", `${field.key} is built in and cannot be deleted.`);
      await dropFieldIndexes(tx, field.id);
      await this.resourceRows.dropFieldValues(tx, type.id, field.id);
      await tx.delete(fields).where(eq(fields.id, field.id));
      await this.touchType(tx, type.id);
      emit({ kind: "FIELD_DELETED", typeKey: type.key, fieldKey: field.key });
      return field.id;
    });
  }

  async setTypeAccess(
    actor: Actor,
    input: { resourceType: string; role: Role; access: Access },
  ): Promise<string> {
    if (input.role === "OWNER") throw fail.badInput("role", "Owners always have full access.");
    return this.mutate(actor, async (tx, catalog, emit) => {
      const type = visibleType(catalog, actor, input.resourceType, "resourceType");
      await tx
        .insert(typeAccess)
        .values({
          workspaceId: actor.workspaceId,
          resourceTypeId: type.id,
          role: input.role,
          access: input.access,
        })
        .onConflictDoUpdate({
          target: [typeAccess.resourceTypeId, typeAccess.role],
          set: { access: input.access },
        });
      await this.touchType(tx, type.id);
      emit({ kind: "ACCESS_CHANGED", typeKey: type.key, role: input.role, access: input.access });
      return type.key;
    });
  }

  async setFieldAccess(
    actor: Actor,
    input: { resourceType: string; field: string; role: Role; access: Access },
  ): Promise<{ typeKey: string; key: string }> {
    if (input.role === "OWNER") throw fail.badInput("role", "Owners always have full access.");
    return this.mutate(actor, async (tx, catalog, emit) => {
      const type = visibleType(catalog, actor, input.resourceType, "resourceType");
      const field = visibleField(catalog, actor, type, input.field, "field");
      if (input.access === "NONE" && alwaysReadable(field)) {
        throw fail.badInput(
          "field",
          `${field.key} is shown on every resource of the type; restrict the type's access instead.`,
        );
      }
      await tx
        .insert(fieldAccess)
        .values({ workspaceId: actor.workspaceId, fieldId: field.id, role: input.role, access: input.access })
        .onConflictDoUpdate({
          target: [fieldAccess.fieldId, fieldAccess.role],
          set: { access: input.access },
        });
      await this.touchType(tx, type.id);
      emit({
        kind: "ACCESS_CHANGED",
        typeKey: type.key,
        fieldKey: field.key,
        role: input.role,
        access: input.access,
      });
      return { typeKey: type.key, key: field.key };
    });
  }
}

/**
 * The form settings after an update: changed options re-check the kept default (it must still be
 * a writable option), and a changed cap re-checks it too.
 */
function formUpdate(field: FieldDef, input: UpdateFieldInput) {
  const listed = input.options != null || input.choices != null;
  const { options, choices } = listed
    ? checkChoices(field.type, input.options, input.choices)
    : { options: field.options, choices: field.choices };
  const maxLength =
    input.maxLength === undefined ? field.maxLength : checkMaxLength(field.type, input.maxLength);
  const shape = { type: field.type, options, choices, maxLength };
  const defaultValue = checkDefault(
    shape,
    input.defaultValue === undefined ? field.defaultValue : input.defaultValue,
  );
  return { options, choices, maxLength, defaultValue };
}

export function fieldOf(catalog: Catalog, typeKey: string, key: string): FieldDef {
  const field = catalog.typesByKey.get(typeKey)?.fieldsByKey.get(key);
  if (!field) throw new Error(`field ${typeKey}.${key} vanished`);
  return field;
}

import { RoleEnum } from "../auth/index.ts";
import { actorOf, builder, type Context, NodeRef, registerNode } from "../kernel/index.ts";
import type { Catalog, FieldDef, TypeDef } from "./catalog.ts";
import { fieldTypes, isSortable, TEXT_LIMITS } from "./fieldTypes.ts";
import { activeOptions, choicesOf } from "./formSettings.ts";
import { typeJsonSchema } from "./jsonSchema.ts";
import { canReadType, canWriteField, capabilitiesFor, readableFields, visibleType } from "./policy.ts";
import { accessEnum, fieldTypeEnum } from "./tables.ts";

/** Types and fields travel with the catalog they came from, so nested resolvers stay synchronous. */
export interface TypeView {
  id: string;
  type: TypeDef;
  catalog: Catalog;
}
export interface FieldView {
  id: string;
  field: FieldDef;
  catalog: Catalog;
}
export const viewType = (type: TypeDef, catalog: Catalog): TypeView => ({ id: type.id, type, catalog });
export const viewField = (field: FieldDef, catalog: Catalog): FieldView => ({ id: field.id, field, catalog });

export const FieldTypeEnum = builder.enumType("FieldType", { values: fieldTypeEnum.enumValues });
export const AccessEnum = builder.enumType("Access", {
  description: "What a role may do with a type or field.",
  values: accessEnum.enumValues,
});

const JsonSchemaModeEnum = builder.enumType("JsonSchemaMode", {
  description: "Which view of a type's values a JSON Schema describes.",
  values: ["CREATE", "UPDATE", "READ"] as const,
});

const CapabilitiesRef = builder.simpleObject("ResourceCapabilities", {
  description: "What the viewer may do with this type's resources.",
  fields: (t) => ({
    create: t.boolean(),
    update: t.boolean(),
    delete: t.boolean(),
    copy: t.boolean(),
    link: t.boolean(),
    assign: t.boolean(),
    move: t.boolean(),
  }),
});

const ChoiceRef = builder.simpleObject("FieldChoice", {
  description: "An option of a SELECT / MULTI_SELECT field.",
  fields: (t) => ({
    value: t.string({ description: "What values hold and filters compare." }),
    label: t.string({ description: "What people see." }),
    archived: t.boolean({ description: "Kept for existing values; new writes refuse it." }),
  }),
});

const FieldChoiceInput = builder.inputType("FieldChoiceInput", {
  fields: (t) => ({
    value: t.string({ required: true }),
    label: t.string({ description: "Defaults to value." }),
    archived: t.boolean({ description: "Refused in new writes; existing values stay readable." }),
  }),
});

export const ResourceTypeRef = builder.objectRef<TypeView>("ResourceType");
export const FieldRef = builder.objectRef<FieldView>("Field");

ResourceTypeRef.implement({
  description: "A kind of resource: built in (system) or defined by the workspace.",
  interfaces: [NodeRef],
  fields: (t) => ({
    id: t.id({ resolve: ({ type }) => type.id }),
    key: t.string({ resolve: ({ type }) => type.key }),
    name: t.string({ resolve: ({ type }) => type.name }),
    pluralName: t.string({ resolve: ({ type }) => type.pluralName }),
    description: t.string({ nullable: true, resolve: ({ type }) => type.description }),
    system: t.boolean({
      description: "Built in: cannot be deleted, can get custom fields.",
      resolve: ({ type }) => type.system,
    }),
    parentType: t.field({
      type: ResourceTypeRef,
      nullable: true,
      description: "The type whose resources can be parents of this type's.",
      resolve: ({ type, catalog }, _args, context) => {
        const parent = catalog.typesById.get(type.parentTypeId);
        return parent && canReadType(catalog, actorOf(context), parent) ? viewType(parent, catalog) : null;
      },
    }),
    fields: t.field({
      type: [FieldRef],
      description: "The fields the viewer can read, system fields first.",
      resolve: ({ type, catalog }, _args, context) =>
        readableFields(catalog, actorOf(context), type).map((field) => viewField(field, catalog)),
    }),
    field: t.field({
      type: FieldRef,
      nullable: true,
      args: { key: t.arg.string({ required: true }) },
      resolve: ({ type, catalog }, { key }, context) => {
        const field = readableFields(catalog, actorOf(context), type).find((f) => f.key === key);
        return field ? viewField(field, catalog) : null;
      },
    }),
    jsonSchema: t.field({
      type: "JSON",
      description:
        "JSON Schema 2020-12 of `values` as the viewer sees them: READ (fields it cannot write are readOnly), CREATE (writable fields, with required), UPDATE (writable fields, none required). Hidden fields are absent.",
      args: { mode: t.arg({ type: JsonSchemaModeEnum, required: true }) },
      resolve: ({ type, catalog }, { mode }, context) =>
        typeJsonSchema(catalog, actorOf(context), type, mode),
    }),
    capabilities: t.field({
      type: CapabilitiesRef,
      resolve: ({ type, catalog }, _args, context) => capabilitiesFor(catalog, actorOf(context), type),
    }),
    createdAt: t.field({ type: "DateTime", resolve: ({ type }) => type.createdAt }),
    updatedAt: t.field({
      type: "DateTime",
      description: "Changes whenever the type or any of its fields or access rules change.",
      resolve: ({ type }) => type.updatedAt,
    }),
  }),
});

FieldRef.implement({
  description: "A field of a resource type, with a stable id and a friendly, renamable name.",
  interfaces: [NodeRef],
  fields: (t) => ({
    id: t.id({ description: "Stable unique identifier, never reused.", resolve: ({ field }) => field.id }),
    key: t.string({
      description: "API name, unique within its type, immutable.",
      resolve: ({ field }) => field.key,
    }),
    name: t.string({ description: "User-friendly label, renamable.", resolve: ({ field }) => field.name }),
    description: t.string({ nullable: true, resolve: ({ field }) => field.description }),
    type: t.field({ type: FieldTypeEnum, resolve: ({ field }) => field.type }),
    system: t.boolean({ resolve: ({ field }) => field.system }),
    custom: t.boolean({ resolve: ({ field }) => !field.system }),
    required: t.boolean({ resolve: ({ field }) => field.required }),
    unique: t.boolean({ resolve: ({ field }) => field.unique }),
    editable: t.boolean({
      description: "Can the viewer set it (false for read-only system fields).",
      resolve: ({ field, catalog }, _args, context) => canWriteField(catalog, actorOf(context), field),
    }),
    createable: t.boolean({
      description:
        "Can the viewer set it when creating a resource (false for read-only fields and for a VIEWER).",
      resolve: ({ field, catalog }, _args, context) => canWriteField(catalog, actorOf(context), field),
    }),
    updateable: t.boolean({
      description:
        "Can the viewer change it on an existing resource (false for read-only fields and for a VIEWER).",
      resolve: ({ field, catalog }, _args, context) => canWriteField(catalog, actorOf(context), field),
    }),
    defaultValue: t.field({
      type: "JSON",
      nullable: true,
      description: "Set on create when the input leaves the field out.",
      resolve: ({ field }) => field.defaultValue ?? null,
    }),
    options: t.stringList({
      nullable: true,
      description: "SELECT / MULTI_SELECT: the values new writes may use (archived ones are in choices).",
      resolve: ({ field }) => activeOptions(field),
    }),
    choices: t.field({
      type: [ChoiceRef],
      nullable: true,
      description:
        "SELECT / MULTI_SELECT: every option with its label; archived ones stay readable, new writes refuse them.",
      resolve: ({ field }) => choicesOf(field),
    }),
    operators: t.stringList({
      description: "The ResourceFilter operators this field supports (e.g. eq, in, gt, contains).",
      resolve: ({ field }) => [...fieldTypes[field.type].operators],
    }),
    sortable: t.boolean({
      description: "Can resources be ordered by it (orderBy).",
      resolve: ({ field }) => isSortable(field.type),
    }),
    maxLength: t.int({
      nullable: true,
      description: "Text-like fields: the longest value accepted.",
      resolve: ({ field }) => field.maxLength ?? TEXT_LIMITS[field.type] ?? null,
    }),
    helpText: t.string({
      nullable: true,
      description: "Guidance shown next to the field in forms.",
      resolve: ({ field }) => field.helpText,
    }),
    referenceType: t.field({
      type: ResourceTypeRef,
      nullable: true,
      description: "REFERENCE / LINKS: the target type; null when the viewer cannot read it.",
      resolve: ({ field, catalog }, _args, context) => {
        const type = field.referenceTypeId ? catalog.typesById.get(field.referenceTypeId) : undefined;
        return type && canReadType(catalog, actorOf(context), type) ? viewType(type, catalog) : null;
      },
    }),
    resourceType: t.field({
      type: ResourceTypeRef,
      resolve: ({ field, catalog }) =>
        viewType(catalog.typesById.get(field.resourceTypeId) as TypeDef, catalog),
    }),
    createdAt: t.field({ type: "DateTime", resolve: ({ field }) => field.createdAt }),
    updatedAt: t.field({ type: "DateTime", resolve: ({ field }) => field.updatedAt }),
  }),
});

registerNode("resourceType", "ResourceType", async (id, context) => {
  const catalog = await context.catalog();
  const type = catalog.typesById.get(id);
  const actor = actorOf(context);
  return type && (await context.services.metadata.findType(actor, type.key)) ? viewType(type, catalog) : null;
});
registerNode("field", "Field", async (id, context) => {
  const catalog = await context.catalog();
  const field = catalog.fieldsById.get(id);
  const type = field && catalog.typesById.get(field.resourceTypeId);
  if (!field || !type) return null;
  const visible = readableFields(catalog, actorOf(context), type).includes(field);
  return visible ? viewField(field, catalog) : null;
});

builder.queryFields((t) => ({
  resourceTypes: t.field({
    type: [ResourceTypeRef],
    description: "Every type the viewer can read, system and custom.",
    resolve: async (_root, _args, context) => {
      const catalog = await context.catalog();
      const types = await context.services.metadata.listTypes(actorOf(context));
      return types.map((type) => viewType(type, catalog));
    },
  }),
  resourceType: t.field({
    type: ResourceTypeRef,
    nullable: true,
    args: { key: t.arg.string({ required: true }) },
    resolve: async (_root, { key }, context) => {
      const type = await context.services.metadata.findType(actorOf(context), key);
      return type ? viewType(type, await context.catalog()) : null;
    },
  }),
  customFields: t.field({
    type: [FieldRef],
    description: "The workspace's custom fields (not built in), optionally of one type.",
    args: { resourceType: t.arg.string() },
    resolve: async (_root, { resourceType }, context) => {
      const actor = actorOf(context);
      const catalog = await context.catalog();
      const types = resourceType
        ? [visibleType(catalog, actor, resourceType, "resourceType")]
        : await context.services.metadata.listTypes(actor);
      return types.flatMap((type) =>
        readableFields(catalog, actor, type)
          .filter((field) => !field.system)
          .map((field) => viewField(field, catalog)),
      );
    },
  }),
}));

// Admin mutations (docs/queries-and-mutations.md).

const CreateResourceTypeInput = builder.inputType("CreateResourceTypeInput", {
  fields: (t) => ({
    key: t.string({ required: true }),
    name: t.string({ required: true }),
    pluralName: t.string(),
    description: t.string(),
    parentType: t.string({
      description: "Key of the type whose resources can be parents (default: this type).",
    }),
  }),
});
const UpdateResourceTypeInput = builder.inputType("UpdateResourceTypeInput", {
  fields: (t) => ({
    key: t.string({ required: true }),
    name: t.string(),
    pluralName: t.string(),
    description: t.string(),
  }),
});
const DeleteResourceTypeInput = builder.inputType("DeleteResourceTypeInput", {
  fields: (t) => ({
    key: t.string({ required: true }),
    force: t.boolean({ description: "Also delete the type's resources (each gets a DELETED change)." }),
  }),
});
const CreateFieldInput = builder.inputType("CreateFieldInput", {
  fields: (t) => ({
    resourceType: t.string({ required: true }),
    key: t.string({ required: true }),
    name: t.string({ required: true }),
    type: t.field({ type: FieldTypeEnum, required: true }),
    description: t.string(),
    required: t.boolean(),
    unique: t.boolean(),
    options: t.stringList(),
    choices: t.field({ type: [FieldChoiceInput], description: "Options with labels; instead of options." }),
    referenceType: t.string(),
    defaultValue: t.field({
      type: "JSON",
      description: "Set on create when the input leaves the field out.",
    }),
    maxLength: t.int({ description: "TEXT / LONG_TEXT: the longest value accepted." }),
    helpText: t.string(),
  }),
});
const UpdateFieldInput = builder.inputType("UpdateFieldInput", {
  fields: (t) => ({
    resourceType: t.string({ required: true }),
    key: t.string({ required: true }),
    name: t.string(),
    description: t.string(),
    required: t.boolean(),
    options: t.stringList({ description: "Replaces the options (labels reset to the values)." }),
    choices: t.field({
      type: [FieldChoiceInput],
      description:
        "Replaces the options with labels and archived flags; archive rather than remove a used option.",
    }),
    defaultValue: t.field({ type: "JSON", description: "null removes the default." }),
    maxLength: t.int({ description: "null returns to the type's own limit." }),
    helpText: t.string(),
  }),
});
const DeleteFieldInput = builder.inputType("DeleteFieldInput", {
  fields: (t) => ({ resourceType: t.string({ required: true }), key: t.string({ required: true }) }),
});
const SetTypeAccessInput = builder.inputType("SetTypeAccessInput", {
  fields: (t) => ({
    resourceType: t.string({ required: true }),
    role: t.field({ type: RoleEnum, required: true }),
    access: t.field({ type: AccessEnum, required: true }),
  }),
});
const SetFieldAccessInput = builder.inputType("SetFieldAccessInput", {
  fields: (t) => ({
    resourceType: t.string({ required: true }),
    field: t.string({ required: true }),
    role: t.field({ type: RoleEnum, required: true }),
    access: t.field({ type: AccessEnum, required: true }),
  }),
});

const typePayload = (name: string) =>
  builder.simpleObject(name, { fields: (t) => ({ resourceType: t.field({ type: ResourceTypeRef }) }) });
const fieldPayload = (name: string) =>
  builder.simpleObject(name, { fields: (t) => ({ field: t.field({ type: FieldRef }) }) });
const deletedPayload = (name: string) =>
  builder.simpleObject(name, { fields: (t) => ({ deletedId: t.id() }) });

async function fieldView(context: Context, typeKey: string, key: string): Promise<FieldView> {
  const catalog = await context.services.catalogs.get(actorOf(context).workspaceId);
  return viewField(catalog.typesByKey.get(typeKey)?.fieldsByKey.get(key) as FieldDef, catalog);
}
async function freshType(context: Context, key: string): Promise<TypeView> {
  const catalog = await context.services.catalogs.get(actorOf(context).workspaceId);
  return viewType(catalog.typesByKey.get(key) as TypeDef, catalog);
}

builder.mutationFields((t) => ({
  createResourceType: t.field({
    type: typePayload("CreateResourceTypePayload"),
    args: { input: t.arg({ type: CreateResourceTypeInput, required: true }) },
    resolve: async (_root, { input }, context) => ({
      resourceType: await freshType(
        context,
        await context.services.metadata.createType(actorOf(context), input),
      ),
    }),
  }),
  updateResourceType: t.field({
    type: typePayload("UpdateResourceTypePayload"),
    args: { input: t.arg({ type: UpdateResourceTypeInput, required: true }) },
    resolve: async (_root, { input }, context) => ({
      resourceType: await freshType(
        context,
        await context.services.metadata.updateType(actorOf(context), input),
      ),
    }),
  }),
  deleteResourceType: t.field({
    type: deletedPayload("DeleteResourceTypePayload"),
    args: { input: t.arg({ type: DeleteResourceTypeInput, required: true }) },
    resolve: async (_root, { input }, context) => {
      const actor = actorOf(context);
      const deletedId = await context.services.metadata.deleteType(actor, input, (tx, catalog, type) =>
        context.services.resources.deleteAllOfType(tx, actor, catalog, type),
      );
      await context.services.sequencer.kick(actor.workspaceId);
      return { deletedId };
    },
  }),
  createField: t.field({
    type: fieldPayload("CreateFieldPayload"),
    args: { input: t.arg({ type: CreateFieldInput, required: true }) },
    resolve: async (_root, { input }, context) => {
      const { typeKey, key } = await context.services.metadata.createField(actorOf(context), input);
      return { field: await fieldView(context, typeKey, key) };
    },
  }),
  updateField: t.field({
    type: fieldPayload("UpdateFieldPayload"),
    args: { input: t.arg({ type: UpdateFieldInput, required: true }) },
    resolve: async (_root, { input }, context) => {
      const { typeKey, key } = await context.services.metadata.updateField(actorOf(context), input);
      return { field: await fieldView(context, typeKey, key) };
    },
  }),
  deleteField: t.field({
    type: deletedPayload("DeleteFieldPayload"),
    args: { input: t.arg({ type: DeleteFieldInput, required: true }) },
    resolve: async (_root, { input }, context) => ({
      deletedId: await context.services.metadata.deleteField(actorOf(context), input),
    }),
  }),
  setTypeAccess: t.field({
    type: typePayload("SetTypeAccessPayload"),
    args: { input: t.arg({ type: SetTypeAccessInput, required: true }) },
    resolve: async (_root, { input }, context) => ({
      resourceType: await freshType(
        context,
        await context.services.metadata.setTypeAccess(actorOf(context), input),
      ),
    }),
  }),
  setFieldAccess: t.field({
    type: fieldPayload("SetFieldAccessPayload"),
    args: { input: t.arg({ type: SetFieldAccessInput, required: true }) },
    resolve: async (_root, { input }, context) => {
      const { typeKey, key } = await context.services.metadata.setFieldAccess(actorOf(context), input);
      return { field: await fieldView(context, typeKey, key) };
    },
  }),
}));

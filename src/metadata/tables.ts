import { sql } from "drizzle-orm";
import {
  boolean,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { roleEnum, workspaces } from "../auth/tables.ts";

export const fieldTypeEnum = pgEnum("field_type", [
  "TEXT",
  "LONG_TEXT",
  "NUMBER",
  "INTEGER",
  "BOOLEAN",
  "DATE",
  "DATETIME",
  "EMAIL",
  "URL",
  "PHONE",
  "SELECT",
  "MULTI_SELECT",
  "REFERENCE",
  "LINKS",
  "MEMBER",
  "FILE",
  "JSON",
]);
export const accessEnum = pgEnum("access", ["NONE", "READ", "WRITE"]);

const timestamps = {
  createdAt: timestamp("created_at", { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true, precision: 3 }).notNull().defaultNow(),
};

export const resourceTypes = pgTable(
  "resource_types",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    name: text("name").notNull(),
    pluralName: text("plural_name").notNull(),
    description: text("description"),
    system: boolean("system").notNull().default(false),
    /** The type whose resources may be this type's parents (itself by default). */
    parentTypeId: text("parent_type_id").notNull(),
    ...timestamps,
  },
  (t) => [uniqueIndex("resource_types_workspace_key").on(t.workspaceId, t.key)],
);

export const fields = pgTable(
  "fields",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    resourceTypeId: text("resource_type_id")
      .notNull()
      .references(() => resourceTypes.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    name: text("name").notNull(),
    description: text("description"),
    type: fieldTypeEnum("type").notNull(),
    /** Built in (system fields and built-in types' fields): cannot be deleted. */
    system: boolean("system").notNull().default(false),
    required: boolean("required").notNull().default(false),
    unique: boolean("unique").notNull().default(false),
    /** SELECT / MULTI_SELECT: every value a resource may hold, archived ones included. */
    options: jsonb("options").$type<string[] | null>(),
    /** Labels and archived flags of `options`; null means every option is its own label, none archived. */
    choices: jsonb("choices").$type<Choice[] | null>(),
    /** Applied on create when the input omits the field; checked against the field's type when set. */
    defaultValue: jsonb("default_value").$type<unknown>(),
    /** TEXT / LONG_TEXT: a tighter cap than the type's own. */
    maxLength: integer("max_length"),
    helpText: text("help_text"),
    referenceTypeId: text("reference_type_id"),
    position: integer("position").notNull().default(0),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("fields_type_key").on(t.resourceTypeId, t.key),
    index("fields_workspace_idx").on(t.workspaceId),
  ],
);

/** Per type and role: NONE, READ or WRITE. No row means the role's default. */
export const typeAccess = pgTable(
  "type_access",
  {
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    resourceTypeId: text("resource_type_id")
      .notNull()
      .references(() => resourceTypes.id, { onDelete: "cascade" }),
    role: roleEnum("role").notNull(),
    access: accessEnum("access").notNull(),
  },
  (t) => [primaryKey({ columns: [t.resourceTypeId, t.role] })],
);

/** Per field and role: NONE, READ or WRITE. No row means the role's default. */
export const fieldAccess = pgTable(
  "field_access",
  {
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    fieldId: text("field_id")
      .notNull()
      .references(() => fields.id, { onDelete: "cascade" }),
    role: roleEnum("role").notNull(),
    access: accessEnum("access").notNull(),
  },
  (t) => [primaryKey({ columns: [t.fieldId, t.role] })],
);

/** Bumped on every metadata change so each process knows when its cached catalog is stale. */
export const schemaVersions = pgTable("schema_versions", {
  workspaceId: text("workspace_id")
    .primaryKey()
    .references(() => workspaces.id, { onDelete: "cascade" }),
  version: integer("version").notNull().default(0),
  updatedAt: timestamp("updated_at", { withTimezone: true, precision: 3 }).notNull().default(sql`now()`),
});

/** One option of a SELECT / MULTI_SELECT field: archived ones stay readable but are refused in writes. */
export interface Choice {
  value: string;
  label: string;
  archived: boolean;
}

export type ResourceTypeRow = typeof resourceTypes.$inferSelect;
export type FieldRow = typeof fields.$inferSelect;
export type FieldType = (typeof fieldTypeEnum.enumValues)[number];
export type Access = (typeof accessEnum.enumValues)[number];

/** What a schema change did: the kinds of metadata change the schema change log records. */
export const schemaChangeKindEnum = pgEnum("schema_change_kind", [
  "TYPE_CREATED",
  "TYPE_UPDATED",
  "TYPE_DELETED",
  "FIELD_CREATED",
  "FIELD_UPDATED",
  "FIELD_DELETED",
  "ACCESS_CHANGED",
]);
export type SchemaChangeKind = (typeof schemaChangeKindEnum.enumValues)[number];

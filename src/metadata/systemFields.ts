import type { FieldType } from "./tables.ts";

/** Where a system field lives: a typed column of `resources`, not the JSONB values. */
export type SystemColumn =
  | "name"
  | "parent_id"
  | "assignee_id"
  | "created_at"
  | "updated_at"
  | "created_by_id";

export interface SystemFieldSpec {
  key: string;
  name: string;
  type: FieldType;
  column: SystemColumn;
  readOnly: boolean;
  description: string;
}

/** The fields every type has (docs/queries-and-mutations.md). */
export const systemFields: readonly SystemFieldSpec[] = [
  {
    key: "name",
    name: "Name",
    type: "TEXT",
    column: "name",
    readOnly: false,
    description: "The resource's name.",
  },
  {
    key: "parent",
    name: "Parent",
    type: "REFERENCE",
    column: "parent_id",
    readOnly: false,
    description: "The parent resource, of the type's parent type.",
  },
  {
    key: "assignee",
    name: "Assignee",
    type: "MEMBER",
    column: "assignee_id",
    readOnly: false,
    description: "The member the resource is assigned to.",
  },
  {
    key: "createdAt",
    name: "Created at",
    type: "DATETIME",
    column: "created_at",
    readOnly: true,
    description: "When the resource was created.",
  },
  {
    key: "updatedAt",
    name: "Updated at",
    type: "DATETIME",
    column: "updated_at",
    readOnly: true,
    description: "When the resource last changed.",
  },
  {
    key: "createdBy",
    name: "Created by",
    type: "MEMBER",
    column: "created_by_id",
    readOnly: true,
    description: "The member who created the resource.",
  },
];

export const systemFieldByKey = new Map(systemFields.map((f) => [f.key, f]));

/** Keys no custom field may take: the system fields, `id`, and words the API uses around values. */
export const reservedFieldKeys = new Set([
  ...systemFields.map((f) => f.key),
  "id",
  "type",
  "typeKey",
  "values",
  "value",
  "version",
  "deletedAt",
  "children",
  "linked",
]);

export interface BuiltInType {
  key: string;
  name: string;
  pluralName: string;
  description: string;
  fields: { key: string; name: string; type: FieldType; options?: string[]; referenceType?: string }[];
}

/** The types every workspace starts with. */
export const builtInTypes: readonly BuiltInType[] = [
  {
    key: "account",
    name: "Account",
    pluralName: "Accounts",
    description: "A company or organisation.",
    fields: [
      { key: "domain", name: "Domain", type: "URL" },
      {
        key: "industry",
        name: "Industry",
        type: "SELECT",
        options: ["Technology", "Finance", "Healthcare", "Retail", "Manufacturing", "Education", "Other"],
      },
    ],
  },
  {
    key: "contact",
    name: "Contact",
    pluralName: "Contacts",
    description: "A person.",
    fields: [
      { key: "email", name: "Email", type: "EMAIL" },
      { key: "phone", name: "Phone", type: "PHONE" },
      { key: "title", name: "Title", type: "TEXT" },
      { key: "accounts", name: "Accounts", type: "LINKS", referenceType: "account" },
    ],
  },
  {
    key: "task",
    name: "Task",
    pluralName: "Tasks",
    description: "Something to do.",
    fields: [
      { key: "status", name: "Status", type: "SELECT", options: ["todo", "doing", "done"] },
      { key: "dueDate", name: "Due date", type: "DATE" },
      { key: "contacts", name: "Contacts", type: "LINKS", referenceType: "contact" },
    ],
  },
];

import type { PlugboardClient, ResourceTypeQuery } from "plugboard/client";

type Field = NonNullable<ResourceTypeQuery["resourceType"]>["fields"][number];

/** A dropdown entry, as Zapier (`{ id, label }`), n8n (`{ name, value }`) and Workato show them. */
export interface Choice {
  value: string;
  label: string;
}

/** An input field for an action's form, built at run time from the type's fields. */
export interface InputField {
  key: string;
  label: string;
  type: "string" | "text" | "number" | "integer" | "boolean" | "datetime" | "date" | "file" | "json";
  required: boolean;
  list: boolean;
  helpText?: string;
  /** Static choices (SELECT / MULTI_SELECT options). */
  choices?: Choice[];
  /** A dynamic dropdown: the resources of this type (REFERENCE / LINKS) or the workspace's members. */
  dynamic?: { resourceType: string } | { members: true };
}

/** Dropdown: the types the connection can create resources of. */
export async function typeChoices(client: PlugboardClient): Promise<Choice[]> {
  const types = await client.resourceTypes();
  return types.filter((t) => t.capabilities.create).map((t) => ({ value: t.key, label: t.name }));
}

/** Dropdown: resources of a type, by name prefix (what a REFERENCE field's picker searches). */
export async function resourceChoices(
  client: PlugboardClient,
  resourceType: string,
  search = "",
): Promise<Choice[]> {
  const page = await client.resources({
    type: resourceType,
    where: search ? { field: "name", startsWith: search } : undefined,
    orderBy: [{ field: "name" }],
    first: 50,
  });
  return page.nodes.map((r) => ({ value: r.id, label: r.name ?? r.id }));
}

const KINDS: Record<Field["type"], InputField["type"]> = {
  TEXT: "string",
  EMAIL: "string",
  PHONE: "string",
  URL: "string",
  LONG_TEXT: "text",
  INTEGER: "integer",
  NUMBER: "number",
  BOOLEAN: "boolean",
  DATE: "date",
  DATETIME: "datetime",
  SELECT: "string",
  MULTI_SELECT: "string",
  REFERENCE: "string",
  LINKS: "string",
  MEMBER: "string",
  FILE: "file",
  JSON: "json",
};

export function toInputField(field: Field, mode: "create" | "update"): InputField {
  const input: InputField = {
    key: field.key,
    label: field.name,
    type: KINDS[field.type],
    // An update changes only what is given: nothing is required there.
    required: mode === "create" && field.required,
    list: field.type === "MULTI_SELECT" || field.type === "LINKS" || field.type === "FILE",
  };
  if (field.description) input.helpText = field.description;
  if (field.options) input.choices = field.options.map((o) => ({ value: o, label: o }));
  if ((field.type === "REFERENCE" || field.type === "LINKS") && field.referenceType) {
    input.dynamic = { resourceType: field.referenceType.key };
  }
  if (field.type === "MEMBER") input.dynamic = { members: true };
  return input;
}

/**
 * Dynamic input fields: the form for creating or updating a resource of `resourceType`, from its
 * fields as this connection sees them. Read-only fields (createdAt, …) and fields the viewer may not
 * write are left out, so the form never offers what the API would refuse.
 */
export async function inputFields(
  client: PlugboardClient,
  resourceType: string,
  mode: "create" | "update" = "create",
): Promise<InputField[]> {
  const fields = await client.fields(resourceType);
  return fields.filter((f) => f.editable).map((f) => toInputField(f, mode));
}

/**
 * Platforms hand form values over as strings ("42", "true", "a,b"); the API wants typed JSON.
 * Empty strings mean "not filled in" and are dropped.
 */
export function toValues(fields: InputField[], input: Record<string, unknown>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const field of fields) {
    const raw = input[field.key];
    if (raw === undefined || raw === "") continue;
    if (field.list) {
      values[field.key] = Array.isArray(raw)
        ? raw
        : String(raw)
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean);
    } else if ((field.type === "number" || field.type === "integer") && typeof raw === "string") {
      values[field.key] = Number(raw);
    } else if (field.type === "boolean" && typeof raw === "string") {
      values[field.key] = raw === "true" || raw === "yes" || raw === "1";
    } else {
      values[field.key] = raw;
    }
  }
  return values;
}

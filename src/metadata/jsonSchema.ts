import type { Actor } from "../auth/index.ts";
import type { Catalog, FieldDef, TypeDef } from "./catalog.ts";
import { MAX_ARRAY, TEXT_LIMITS } from "./fieldTypes.ts";
import { activeOptions } from "./formSettings.ts";
import { canWriteField, readableFields } from "./policy.ts";

export type SchemaMode = "CREATE" | "UPDATE" | "READ";
type Schema = Record<string, unknown>;

const ID_PATTERN = "^[a-z]{2,4}_[0-9a-z]{1,40}$";

/** The JSON Schema of one value of a field, without null (added by the caller where null is allowed). */
function valueSchema(field: FieldDef, mode: SchemaMode): Schema {
  const maxLength = field.maxLength ?? TEXT_LIMITS[field.type];
  const options = mode === "READ" ? field.options : activeOptions(field);
  switch (field.type) {
    case "TEXT":
    case "LONG_TEXT":
    case "PHONE":
      return { type: "string", maxLength };
    case "EMAIL":
      return { type: "string", format: "email", maxLength };
    // Inputs may leave out the scheme ("acme.com" is stored as https://acme.com), so only what is
    // stored is a URI.
    case "URL":
      return mode === "READ" ? { type: "string", format: "uri", maxLength } : { type: "string", maxLength };
    case "NUMBER":
      return { type: "number" };
    case "INTEGER":
      return { type: "integer" };
    case "BOOLEAN":
      return { type: "boolean" };
    case "DATE":
      return { type: "string", format: "date" };
    case "DATETIME":
      return { type: "string", format: "date-time" };
    case "SELECT":
      return { type: "string", enum: options ?? [] };
    case "MULTI_SELECT":
      return { type: "array", items: { type: "string", enum: options ?? [] }, uniqueItems: true };
    case "REFERENCE":
    case "MEMBER":
      return { type: "string", pattern: ID_PATTERN };
    case "LINKS":
    case "FILE":
      return { type: "array", items: { type: "string", pattern: ID_PATTERN }, maxItems: MAX_ARRAY };
    case "JSON":
      return {};
  }
}

function nullable(schema: Schema): Schema {
  if (schema.type === undefined) return schema; // JSON: any value, null included
  return { ...schema, type: [schema.type as string, "null"] };
}

function property(field: FieldDef, mode: SchemaMode, writable: boolean, required: boolean): Schema {
  const value = valueSchema(field, mode);
  const schema: Schema = { title: field.name, ...(required ? value : nullable(value)) };
  const description = field.helpText ?? field.description;
  if (description) schema.description = description;
  if (field.defaultValue != null && mode !== "UPDATE") schema.default = field.defaultValue;
  if (mode === "READ" && !writable) schema.readOnly = true;
  return schema;
}

/**
 * JSON Schema 2020-12 of a type's `values` as the actor sees them: READ describes every readable
 * field (those it cannot write marked readOnly); CREATE and UPDATE only the fields it may write,
 * CREATE listing the required ones without a default. Fields the actor cannot read are absent.
 */
export function typeJsonSchema(catalog: Catalog, actor: Actor, type: TypeDef, mode: SchemaMode): Schema {
  const properties: Record<string, Schema> = {};
  const required: string[] = [];
  for (const field of readableFields(catalog, actor, type)) {
    const writable = canWriteField(catalog, actor, field);
    if (mode !== "READ" && !writable) continue;
    const isRequired = mode === "CREATE" && field.required && field.defaultValue == null;
    properties[field.key] = property(field, mode, writable, isRequired);
    if (isRequired) required.push(field.key);
  }
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title:
      mode === "READ" ? type.name : `${mode === "CREATE" ? "New" : "Changed"} ${type.name.toLowerCase()}`,
    type: "object",
    properties,
    ...(required.length > 0 ? { required } : {}),
    additionalProperties: false,
  };
}

import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  buildSchema,
  type GraphQLArgument,
  type GraphQLEnumType,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLInputObjectType,
  type GraphQLInterfaceType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLScalarType,
  type GraphQLSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isScalarType,
  isSpecifiedScalarType,
  isUnionType,
} from "graphql";

/**
 * `npm run docs`: renders docs/schema.md, the schema reference, from the printed schema/schema.graphql.
 * The output depends only on that file (names sorted, no dates), so CI regenerates it and fails on drift.
 */

type Field = GraphQLField<unknown, unknown> | GraphQLInputField;

const anchor = (name: string) => name.toLowerCase();
const link = (name: string) => `[${name}](#${anchor(name)})`;
/** Code-point order: the same on every machine, whatever its locale. */
const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** A type reference with its wrappers, the named type linked when it is one of ours. */
function typeRef(type: Field["type"] | GraphQLArgument["type"], schema: GraphQLSchema): string {
  const named = getNamedType(type);
  const printed = String(type);
  const ours = !isSpecifiedScalarType(named) && !named.name.startsWith("__") && schema.getType(named.name);
  return ours ? `[\`${printed}\`](#${anchor(named.name)})` : `\`${printed}\``;
}

/** One line for a table cell: Markdown tables cannot hold line breaks or bare pipes. */
function cell(text: string | null | undefined): string {
  return (text ?? "")
    .trim()
    .replace(/\|/g, "\\|")
    .replace(/\s*\n\s*/g, " ");
}

function deprecation(reason: string | null | undefined): string {
  return reason ? ` **Deprecated:** ${cell(reason)}` : "";
}

function describeArgs(args: readonly GraphQLArgument[], schema: GraphQLSchema): string {
  if (args.length === 0) return "";
  const rendered = args.map((arg) => {
    const defaultValue = arg.defaultValue === undefined ? "" : ` = ${JSON.stringify(arg.defaultValue)}`;
    const description = arg.description ? ` — ${cell(arg.description)}` : "";
    return `\`${arg.name}\`: ${typeRef(arg.type, schema)}${defaultValue}${description}${deprecation(arg.deprecationReason)}`;
  });
  return `<br>arguments: ${rendered.join("; ")}`;
}

function fieldTable(fields: readonly Field[], schema: GraphQLSchema, input: boolean): string[] {
  const lines = ["| field | type | description |", "| --- | --- | --- |"];
  for (const field of [...fields].sort(byName)) {
    const args = "args" in field ? describeArgs(field.args, schema) : "";
    const defaultValue =
      input && "defaultValue" in field && field.defaultValue !== undefined
        ? ` (default \`${JSON.stringify(field.defaultValue)}\`)`
        : "";
    lines.push(
      `| \`${field.name}\` | ${typeRef(field.type, schema)} | ${cell(field.description)}${defaultValue}${deprecation(field.deprecationReason)}${args} |`,
    );
  }
  return lines;
}

function section(type: GraphQLNamedType, schema: GraphQLSchema): string[] {
  const lines = [`### ${type.name}`, ""];
  if (type.description) lines.push(type.description.trim(), "");
  if (isObjectType(type) || isInterfaceType(type)) {
    const objectLike = type as GraphQLObjectType | GraphQLInterfaceType;
    const interfaces = objectLike.getInterfaces();
    if (interfaces.length > 0)
      lines.push(`Implements ${interfaces.map((i) => link(i.name)).join(", ")}.`, "");
    if (isInterfaceType(type)) {
      const implementations = schema
        .getImplementations(type)
        .objects.map((o) => o.name)
        .sort();
      lines.push(`Implemented by ${implementations.map(link).join(", ")}.`, "");
    }
    lines.push(...fieldTable(Object.values(objectLike.getFields()), schema, false), "");
  } else if (isInputObjectType(type)) {
    const fields = Object.values((type as GraphQLInputObjectType).getFields());
    lines.push(...fieldTable(fields, schema, true), "");
  } else if (isEnumType(type)) {
    lines.push("| value | description |", "| --- | --- |");
    for (const value of [...(type as GraphQLEnumType).getValues()].sort(byName)) {
      lines.push(`| \`${value.name}\` | ${cell(value.description)}${deprecation(value.deprecationReason)} |`);
    }
    lines.push("");
  } else if (isScalarType(type)) {
    const specifiedBy = (type as GraphQLScalarType).specifiedByURL;
    if (specifiedBy) lines.push(`Specified by <${specifiedBy}>.`, "");
  } else if (isUnionType(type)) {
    lines.push(
      `One of ${type
        .getTypes()
        .map((t) => link(t.name))
        .join(", ")}.`,
      "",
    );
  }
  return lines;
}

export function renderSchemaReference(sdl: string): string {
  const schema = buildSchema(sdl);
  const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].filter(
    (type): type is GraphQLObjectType => type != null,
  );
  const rootNames = new Set(roots.map((type) => type.name));
  const named = Object.values(schema.getTypeMap())
    .filter(
      (type) => !type.name.startsWith("__") && !isSpecifiedScalarType(type) && !rootNames.has(type.name),
    )
    .sort(byName);
  const groups: [string, (type: GraphQLNamedType) => boolean][] = [
    ["Objects", (t) => isObjectType(t)],
    ["Interfaces", (t) => isInterfaceType(t)],
    ["Unions", (t) => isUnionType(t)],
    ["Input objects", (t) => isInputObjectType(t)],
    ["Enums", (t) => isEnumType(t)],
    ["Scalars", (t) => isScalarType(t)],
  ];

  const lines = [
    "<!-- Generated by `npm run docs` from schema/schema.graphql. Do not edit: change the schema's descriptions. -->",
    "",
    "# Schema reference",
    "",
    "Every type, field and argument of the GraphQL API, with the descriptions the schema carries. The",
    "[guides](README.md) explain how they fit together; the schema itself is `schema/schema.graphql`.",
    "",
    "## Operations",
    "",
  ];
  for (const root of roots) {
    lines.push(...section(root, schema));
  }
  for (const [title, belongs] of groups) {
    const members = named.filter(belongs);
    if (members.length === 0) continue;
    lines.push(`## ${title}`, "");
    for (const type of members) lines.push(...section(type, schema));
  }
  return `${lines.join("\n").trimEnd()}\n`;
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const source = fileURLToPath(new URL("../schema/schema.graphql", import.meta.url));
  const target = fileURLToPath(new URL("../docs/schema.md", import.meta.url));
  writeFileSync(target, renderSchemaReference(readFileSync(source, "utf8")));
  console.log(`wrote ${target}`);
}

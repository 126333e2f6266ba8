import { type FieldNode, type GraphQLResolveInfo, Kind, type SelectionSetNode } from "graphql";

/**
 * The `field` keys of every `linked(field: …)` a connection's query selects on its nodes (under
 * `nodes` or `edges { node }`, through fragments). A listing reads those links' rows in the same
 * statement as its page instead of a second round trip. Only a hint: a key that is not a readable
 * LINKS field is skipped here and refused by `linked` itself, and a `@skip`ped one is merely read.
 */
export function selectedLinkedKeys(info: GraphQLResolveInfo): string[] {
  const keys = new Set<string>();
  const nodeSets: SelectionSetNode[] = [];
  for (const node of info.fieldNodes) {
    for (const field of fieldsOf(info, node.selectionSet)) {
      if (field.name.value === "nodes" && field.selectionSet) nodeSets.push(field.selectionSet);
      if (field.name.value !== "edges") continue;
      for (const edgeField of fieldsOf(info, field.selectionSet)) {
        if (edgeField.name.value === "node" && edgeField.selectionSet) nodeSets.push(edgeField.selectionSet);
      }
    }
  }
  for (const set of nodeSets) {
    for (const field of fieldsOf(info, set)) {
      if (field.name.value !== "linked") continue;
      const argument = field.arguments?.find((a) => a.name.value === "field")?.value;
      if (argument?.kind === Kind.STRING) keys.add(argument.value);
      else if (argument?.kind === Kind.VARIABLE) {
        const value = info.variableValues[argument.name.value];
        if (typeof value === "string") keys.add(value);
      }
    }
  }
  return [...keys];
}

/** The fields of a selection set, fragments flattened (one level of the response, any depth of fragments). */
function fieldsOf(
  info: GraphQLResolveInfo,
  set: SelectionSetNode | undefined,
  seen = new Set<string>(),
): FieldNode[] {
  const fields: FieldNode[] = [];
  for (const selection of set?.selections ?? []) {
    if (selection.kind === Kind.FIELD) fields.push(selection);
    else if (selection.kind === Kind.INLINE_FRAGMENT)
      fields.push(...fieldsOf(info, selection.selectionSet, seen));
    else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      fields.push(...fieldsOf(info, info.fragments[selection.name.value]?.selectionSet, seen));
    }
  }
  return fields;
}

import { type FieldNode, type GraphQLResolveInfo, Kind, type SelectionSetNode } from "graphql";
import { ALL_COLUMNS, fieldColumn, type OptionalColumn, type ValueKeys } from "../ledger/index.ts";
import type { TypeDef } from "../metadata/index.ts";

/**
 * What a connection's nodes select, as far as the columns of their rows go: a listing reads only
 * those (`columnsShown`). Only a hint for reading: every field still resolves through its own
 * resolver and the access policy. Anything this cannot read for sure — a field it does not know, an
 * argument that is not a string — makes it read every column.
 */
export interface NodeSelection {
  everything: boolean;
  /** Names of the Resource fields selected (aliases resolved, fragments flattened). */
  fields: Set<string>;
  /** The keys of every `value(field:)`. */
  valueKeys: Set<string>;
  /** The keys of every `linked(field:)`. */
  linkedKeys: Set<string>;
  /** The nodes selection of every `linked(field:)` of a page's own rows, by key (aliases of one key merged). */
  linked: Map<string, NodeSelection>;
}

/**
 * The columns each Resource field reads from its row (`value` by its key; `values` reads them all).
 * A field missing here — one added later, here or by another folder — reads every column until it
 * is listed. `files` is the files folder's: a FILE field's ids are in the values.
 */
const FIELD_COLUMNS: Record<string, readonly OptionalColumn[]> = {
  __typename: [],
  id: [],
  type: [],
  typeKey: [],
  children: [],
  name: ["name"],
  parent: ["parentId"],
  assignee: ["assigneeId"],
  createdBy: ["createdById"],
  version: ["version"],
  createdAt: ["createdAt"],
  updatedAt: ["updatedAt"],
  linked: ["values"],
  files: ["values"],
  value: [], // by its key: `valueColumns`
};

/** What a `resources` field selects under `nodes` and `edges { node }`. */
export function nodeSelection(info: GraphQLResolveInfo): NodeSelection {
  return selectionOf(
    info,
    info.fieldNodes.flatMap((node) => nodeSets(info, node)),
    true,
  );
}

function nodeSets(info: GraphQLResolveInfo, connection: FieldNode): SelectionSetNode[] {
  const sets: SelectionSetNode[] = [];
  for (const field of fieldsOf(info, connection.selectionSet)) {
    if (field.name.value === "nodes" && field.selectionSet) sets.push(field.selectionSet);
    if (field.name.value !== "edges") continue;
    for (const edgeField of fieldsOf(info, field.selectionSet)) {
      if (edgeField.name.value === "node" && edgeField.selectionSet) sets.push(edgeField.selectionSet);
    }
  }
  return sets;
}

/** `followLinked`: the page's own links are read with it; deeper ones go through the loader. */
function selectionOf(
  info: GraphQLResolveInfo,
  sets: SelectionSetNode[],
  followLinked: boolean,
): NodeSelection {
  const selection: NodeSelection = {
    everything: false,
    fields: new Set(),
    valueKeys: new Set(),
    linkedKeys: new Set(),
    linked: new Map(),
  };
  const linkedSets = new Map<string, SelectionSetNode[]>();
  for (const set of sets) {
    for (const field of fieldsOf(info, set)) {
      const name = field.name.value;
      selection.fields.add(name);
      if (!Object.hasOwn(FIELD_COLUMNS, name)) selection.everything = true;
      if (name !== "value" && name !== "linked") continue;
      const key = stringArgument(info, field, "field");
      if (key === undefined) selection.everything = true;
      else if (name === "value") selection.valueKeys.add(key);
      else {
        selection.linkedKeys.add(key);
        if (!followLinked) continue;
        const list = linkedSets.get(key) ?? [];
        list.push(...nodeSets(info, field));
        linkedSets.set(key, list);
      }
    }
  }
  for (const [key, list] of linkedSets) selection.linked.set(key, selectionOf(info, list, false));
  return selection;
}

function stringArgument(info: GraphQLResolveInfo, field: FieldNode, name: string): string | undefined {
  const argument = field.arguments?.find((a) => a.name.value === name)?.value;
  if (argument?.kind === Kind.STRING) return argument.value;
  if (argument?.kind === Kind.VARIABLE) {
    const value = info.variableValues[argument.name.value];
    if (typeof value === "string") return value;
  }
  return undefined;
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

/**
 * The columns rows of `types` must carry for `selection`. `value(field:)` reads the column of a
 * system field (`createdAt`…) and the JSONB values for any other; `values` reads every field.
 */
export function columnsShown(
  selection: NodeSelection,
  types: readonly TypeDef[],
): ReadonlySet<OptionalColumn> {
  if (selection.everything || selection.fields.has("values")) return ALL_COLUMNS;
  const columns = new Set<OptionalColumn>();
  // Every name here is one of FIELD_COLUMNS: any other made the selection `everything`.
  for (const name of selection.fields) for (const column of FIELD_COLUMNS[name] ?? []) columns.add(column);
  for (const key of selection.valueKeys) {
    for (const column of valueColumns(types, key)) columns.add(column);
  }
  return columns;
}

/**
 * The keys (field ids) of `values` rows of `types` must carry for `selection`: those of its
 * `value(field:)` and `linked(field:)` (on any of `types`); undefined — the whole document — when it
 * shows every value (`values`, `files`), cannot say which, or names a key no type has (its resolver
 * then fails: nothing reaches an unread key).
 */
export function valueKeysShown(selection: NodeSelection, types: readonly TypeDef[]): ValueKeys {
  const { fields } = selection;
  if (selection.everything || fields.has("values") || fields.has("files")) return undefined;
  const keys = new Set<string>();
  for (const key of [...selection.valueKeys, ...selection.linkedKeys]) {
    let found = false;
    for (const type of types) {
      const field = type.fieldsByKey.get(key);
      if (!field) continue;
      found = true;
      if (fieldColumn(field) === "values") keys.add(field.id);
    }
    if (!found) return undefined;
  }
  return keys;
}

function valueColumns(types: readonly TypeDef[], key: string): OptionalColumn[] {
  const columns: OptionalColumn[] = [];
  for (const type of types) {
    const field = type.fieldsByKey.get(key);
    if (!field) continue;
    columns.push(fieldColumn(field));
  }
  // A key no type has fails in its resolver; read the values so nothing reaches an unread column.
  return columns.length ? columns : ["values"];
}

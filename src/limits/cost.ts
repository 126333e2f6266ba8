import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  getNamedType,
  getNullableType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  SchemaMetaFieldDef,
  type SelectionSetNode,
  TypeMetaFieldDef,
  type ValueNode,
} from "graphql";

/**
 * A static estimate of how many field values an operation can resolve, before any resolver runs.
 * Each selected field costs 1 for every time it can be resolved: a list multiplies what it selects
 * by its size. Paginated fields (`first`/`last`) count the page they ask for (or their default
 * page), applied once to the connection (its `edges`/`nodes` do not multiply again); other lists
 * count `LIST_SIZE`, introspection lists the schema's own sizes.
 *
 * graphql-armor's cost-limit plugin scores depth and field counts but does not read `first`/`last`
 * (a 500-row page costs what a 1-row page does), and Pothos's complexity plugin runs while the
 * operation executes; so the multiplication is this walk over the validated document.
 */

/** The size assumed for a list without a page argument (a workspace's types, fields, members…). */
export const LIST_SIZE = 20;
/** Default pages by field (docs/errors-and-limits.md): `changes` 100, every other connection 50. */
const DEFAULT_PAGE: Record<string, number> = { changes: 100 };
const DEFAULT_PAGE_SIZE = 50;
/**
 * The largest pages (docs/errors-and-limits.md): a larger `first` counts as the largest, so the
 * resolver refuses it with its own error naming `first`, which says more than a cost.
 */
const MAX_PAGE: Record<string, number> = { changes: 1000 };
const MAX_PAGE_SIZE = 500;

export interface CostEstimate {
  cost: number;
  /** Root fields selected, aliases counted (a flood of aliased root fields is one kind of attack). */
  rootFields: number;
  /** Whether a variable decided a page size (then the estimate cannot be cached by document). */
  usedVariables: boolean;
}

/** Introspection lists have known sizes: the averages over this schema (computed once per schema). */
function introspectionSizes(schema: GraphQLSchema): Map<string, number> {
  const types = Object.values(schema.getTypeMap());
  const average = (counts: number[]) =>
    Math.max(1, Math.ceil(counts.reduce((a, b) => a + b, 0) / Math.max(1, counts.length)));
  const withFields = types.filter((t) => isObjectType(t) || isInterfaceType(t));
  const fields = withFields.flatMap((t) => Object.values(t.getFields()));
  return new Map([
    ["__Schema.types", types.length],
    ["__Schema.directives", schema.getDirectives().length],
    ["__Type.fields", average(withFields.map((t) => Object.keys(t.getFields()).length))],
    [
      "__Type.inputFields",
      average(types.filter(isInputObjectType).map((t) => Object.keys(t.getFields()).length)),
    ],
    ["__Type.enumValues", average(types.filter(isEnumType).map((t) => t.getValues().length))],
    ["__Type.interfaces", average(withFields.map((t) => t.getInterfaces().length))],
    [
      "__Type.possibleTypes",
      average(types.filter((t) => isInterfaceType(t)).map((t) => schema.getPossibleTypes(t).length)),
    ],
    ["__Field.args", average(fields.map((f) => f.args.length))],
    ["__Directive.args", average(schema.getDirectives().map((d) => d.args.length))],
  ]);
}

const sizesBySchema = new WeakMap<GraphQLSchema, Map<string, number>>();

interface Walk {
  schema: GraphQLSchema;
  fragments: Map<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
  sizes: Map<string, number>;
  usedVariables: boolean;
  /** Past this the walk stops early: the operation is refused whatever the rest costs. */
  stopAt: number;
}

function pageArgument(node: FieldNode, walk: Walk): number | undefined {
  let size: number | undefined;
  for (const argument of node.arguments ?? []) {
    const name = argument.name.value;
    if (name !== "first" && name !== "last") continue;
    const value = argumentValue(argument.value, walk);
    if (typeof value === "number") size = Math.max(size ?? 0, value);
  }
  return size;
}

function argumentValue(value: ValueNode, walk: Walk): unknown {
  if (value.kind === Kind.INT) return Number(value.value);
  if (value.kind === Kind.VARIABLE) {
    walk.usedVariables = true;
    return walk.variables[value.name.value];
  }
  return undefined;
}

function fieldDefinition(
  parent: GraphQLCompositeType,
  name: string,
  walk: Walk,
): GraphQLField<unknown, unknown> | undefined {
  if (name === "__schema" && parent === walk.schema.getQueryType()) return SchemaMetaFieldDef;
  if (name === "__type" && parent === walk.schema.getQueryType()) return TypeMetaFieldDef;
  if (isObjectType(parent) || isInterfaceType(parent)) return parent.getFields()[name];
  return undefined;
}

/** What a selection set costs when its parent resolves `times` times. */
function selectionCost(
  parent: GraphQLCompositeType,
  selectionSet: SelectionSetNode,
  times: number,
  paged: boolean,
  walk: Walk,
): number {
  let cost = 0;
  for (const selection of selectionSet.selections) {
    if (cost > walk.stopAt) return cost;
    if (selection.kind === Kind.FIELD) {
      const name = selection.name.value;
      if (name === "__typename") continue;
      const field = fieldDefinition(parent, name, walk);
      if (!field) continue;
      cost += times;
      const named = getNamedType(field.type);
      if (!selection.selectionSet || !isCompositeType(named)) continue;
      const page = pageArgument(selection, walk);
      const hasPageArgs = field.args.some((a) => a.name === "first" || a.name === "last");
      let size = 1;
      if (hasPageArgs) {
        size = Math.min(page ?? DEFAULT_PAGE[name] ?? DEFAULT_PAGE_SIZE, MAX_PAGE[name] ?? MAX_PAGE_SIZE);
      } else if (isListType(getNullableType(field.type)) && !paged) {
        size = walk.sizes.get(`${parent.name}.${name}`) ?? LIST_SIZE;
      }
      cost += selectionCost(named, selection.selectionSet, times * Math.max(1, size), hasPageArgs, walk);
    } else {
      const fragment =
        selection.kind === Kind.INLINE_FRAGMENT ? selection : walk.fragments.get(selection.name.value);
      if (!fragment) continue;
      const condition = fragment.typeCondition
        ? walk.schema.getType(fragment.typeCondition.name.value)
        : parent;
      if (!condition || !isCompositeType(condition)) continue;
      cost += selectionCost(condition, fragment.selectionSet, times, paged, walk);
    }
  }
  return cost;
}

function rootFieldCount(selectionSet: SelectionSetNode, walk: Walk, seen: Set<string>): number {
  let count = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) count += selection.name.value === "__typename" ? 0 : 1;
    else if (selection.kind === Kind.INLINE_FRAGMENT)
      count += rootFieldCount(selection.selectionSet, walk, seen);
    else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      const fragment = walk.fragments.get(selection.name.value);
      if (fragment) count += rootFieldCount(fragment.selectionSet, walk, seen);
    }
  }
  return count;
}

export function findOperation(
  document: DocumentNode,
  operationName?: string | null,
): OperationDefinitionNode | undefined {
  const operations = document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  return operationName ? operations.find((o) => o.name?.value === operationName) : operations[0];
}

/** The estimate for one operation of a validated document; `stopAt` ends the walk early. */
export function estimateCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
  stopAt = Number.POSITIVE_INFINITY,
): CostEstimate {
  const operation = findOperation(document, operationName);
  let sizes = sizesBySchema.get(schema);
  if (!sizes) {
    sizes = introspectionSizes(schema);
    sizesBySchema.set(schema, sizes);
  }
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions)
    if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const walk: Walk = { schema, fragments, variables: variables ?? {}, sizes, usedVariables: false, stopAt };
  const root = operation ? schema.getRootType(operation.operation) : undefined;
  if (!operation || !root) return { cost: 0, rootFields: 0, usedVariables: false };
  return {
    cost: selectionCost(root, operation.selectionSet, 1, false, walk),
    rootFields: rootFieldCount(operation.selectionSet, walk, new Set()),
    usedVariables: walk.usedVariables,
  };
}

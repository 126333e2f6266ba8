import { useGraphQlJit } from "@envelop/graphql-jit";
import {
  BREAK,
  type DocumentNode,
  type GraphQLInputObjectType,
  type GraphQLInputType,
  type GraphQLSchema,
  getNamedType,
  isInputObjectType,
  isScalarType,
  isValueNode,
  Kind,
  TypeInfo,
  type TypeNode,
  visit,
  visitWithTypeInfo,
} from "graphql";
import type { Plugin } from "graphql-yoga";

/** The input object types reachable from an input type's fields, by name. */
function reachableInputTypes(type: GraphQLInputObjectType): Set<string> {
  const seen = new Set<string>();
  const stack: GraphQLInputType[] = Object.values(type.getFields()).map((f) => f.type);
  while (stack.length) {
    const named = getNamedType(stack.pop() as GraphQLInputType);
    if (!isInputObjectType(named) || seen.has(named.name)) continue;
    seen.add(named.name);
    stack.push(...Object.values(named.getFields()).map((f) => f.type));
  }
  return seen;
}

/**
 * Input types that contain themselves (ResourceFilter's and/or/not), and those that hold one
 * (ChangeFilter.where, and the webhook inputs holding a ChangeFilter): graphql-jit's variable
 * coercion recurses forever on them.
 */
function recursiveInputTypes(schema: GraphQLSchema): Set<string> {
  const reachable = new Map<string, Set<string>>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (isInputObjectType(type) && !type.name.startsWith("__"))
      reachable.set(type.name, reachableInputTypes(type));
  }
  const selfContaining = [...reachable].filter(([name, seen]) => seen.has(name)).map(([name]) => name);
  const recursive = new Set<string>();
  for (const [name, seen] of reachable) {
    if (selfContaining.some((inner) => inner === name || seen.has(inner))) recursive.add(name);
  }
  return recursive;
}

/**
 * A literal of a scalar whose parseLiteral reads variables (JSON: `values: { name: $name }`):
 * graphql-jit parses such literals without the variables, so they would lose their values.
 */
function hasVariableAwareScalarLiteral(schema: GraphQLSchema, document: DocumentNode): boolean {
  const typeInfo = new TypeInfo(schema);
  let found = false;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      enter(node) {
        if (!isValueNode(node) || node.kind === Kind.VARIABLE) return;
        const type = getNamedType(typeInfo.getInputType());
        if (type && isScalarType(type) && type.parseLiteral.length > 1) {
          found = true;
          return BREAK;
        }
      },
    }),
  );
  return found;
}

function namedTypeOf(node: TypeNode): string {
  return node.kind === Kind.NAMED_TYPE ? node.name.value : namedTypeOf(node.type);
}

/**
 * Executes queries and mutations with graphql-jit: the operation is compiled once per document
 * (resolvers called directly), which cuts the executor's share of a list page. Results are still
 * serialized by JSON.stringify: graphql-jit's generated stringifier refuses custom scalars (JSON). Operations whose variables use a recursive input type (a
 * `ResourceFilter` passed as a variable) or that write a JSON literal (which may embed variables)
 * run on graphql-js, which handles both; subscriptions always do.
 */
export function useJitExecution(schema: GraphQLSchema): Plugin {
  const recursive = recursiveInputTypes(schema);
  const compilable = new WeakMap<DocumentNode, boolean>();
  return useGraphQlJit(
    {},
    {
      enableIf: ({ document }) => {
        let ok = compilable.get(document);
        if (ok === undefined) {
          ok =
            document.definitions.every(
              (definition) =>
                definition.kind !== Kind.OPERATION_DEFINITION ||
                (definition.operation !== "subscription" &&
                  (definition.variableDefinitions ?? []).every((v) => !recursive.has(namedTypeOf(v.type)))),
            ) && !hasVariableAwareScalarLiteral(schema, document);
          compilable.set(document, ok);
        }
        return ok;
      },
    },
  ) as Plugin;
}

import { type DocumentNode, Kind, type OperationDefinitionNode, type SelectionSetNode } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { Context } from "../../kernel/index.ts";
import { fail } from "../../kernel/index.ts";

const OPEN_FIELDS = new Set(["__schema", "__type", "__typename"]);

function selectsOnlyIntrospection(
  selectionSet: SelectionSetNode,
  document: DocumentNode,
  seen: Set<string>,
): boolean {
  return selectionSet.selections.every((selection) => {
    if (selection.kind === Kind.FIELD) return OPEN_FIELDS.has(selection.name.value);
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      return selectsOnlyIntrospection(selection.selectionSet, document, seen);
    }
    const name = selection.name.value;
    if (seen.has(name)) return true;
    seen.add(name);
    const fragment = document.definitions.find(
      (d) => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === name,
    );
    return (
      fragment?.kind === Kind.FRAGMENT_DEFINITION &&
      selectsOnlyIntrospection(fragment.selectionSet, document, seen)
    );
  });
}

export function isIntrospectionOnly(document: DocumentNode, operationName?: string | null): boolean {
  const operations = document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  const operation = operationName ? operations.find((op) => op.name?.value === operationName) : operations[0];
  if (!operation) return false;
  return (
    operation.operation === "query" && selectsOnlyIntrospection(operation.selectionSet, document, new Set())
  );
}

/**
 * docs/authentication.md: an operation that selects only `__schema`, `__type` and `__typename` needs no
 * credential; everything else is refused with 401 before it runs.
 */
export function useRequireCredential(): Plugin<Context> {
  const check = (args: { contextValue: Context; document: DocumentNode; operationName?: string | null }) => {
    if (!args.contextValue.actor && !isIntrospectionOnly(args.document, args.operationName)) {
      throw fail.unauthenticated(
        "Authentication required: send an API key as `Authorization: Bearer <key>`, `X-API-Key`, or Basic.",
        false,
      );
    }
  };
  return {
    onExecute: ({ args }) => check(args),
    onSubscribe: ({ args }) => check(args),
  };
}

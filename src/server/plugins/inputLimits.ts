import type { ASTVisitor, GraphQLError, ValidationContext } from "graphql";
import type { Plugin } from "graphql-yoga";
import { fail } from "../../kernel/index.ts";

/**
 * How deep a variable or a literal may nest objects and lists. Deeper inputs are refused before
 * anything reads them: coercing a recursive input (ResourceFilter) or a JSON value recurses once
 * per level, and ~10,000 levels overflowed the stack (INTERNAL_SERVER_ERROR). A ResourceFilter's
 * `not` is one level, `and`/`or` two (an object in a list).
 */
export const MAX_INPUT_DEPTH = 64;

/**
 * Why PostgreSQL cannot store a string, or null. `text` and `jsonb` refuse NUL (`\u0000`), and a
 * lone UTF-16 surrogate (half of a pair, which JSON's `\ud800` escapes can produce) is not UTF-8.
 */
export function unstorable(text: string): string | null {
  if (text.includes("\u0000")) return "contains a NUL character (\\u0000), which cannot be stored; remove it";
  // ES2024, in Node since 20; the project's TypeScript lib is ES2023.
  if (!(text as string & { isWellFormed(): boolean }).isWellFormed()) {
    return "contains a lone UTF-16 surrogate (half of a pair), which is not valid Unicode; send well-formed text";
  }
  return null;
}

const tooDeep = (field: string) =>
  fail.badInput(field, `${field} nests deeper than ${MAX_INPUT_DEPTH} levels of objects and lists.`);

/**
 * Throws BAD_USER_INPUT naming the first string or key of `value` that cannot be stored (by its
 * path, `values.name`), or the argument (`root`) when `value` nests too deep.
 */
export function checkInput(value: unknown, field: string, root = field, depth = 0): void {
  if (typeof value === "string") {
    const problem = unstorable(value);
    if (problem) throw fail.badInput(field, `${field} ${problem}.`);
    return;
  }
  if (typeof value !== "object" || value === null) return;
  if (depth >= MAX_INPUT_DEPTH) throw tooDeep(root);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) checkInput(value[i], `${field}[${i}]`, root, depth + 1);
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    const problem = unstorable(key);
    if (problem) throw fail.badInput(field, `A key of ${field} ${problem}.`);
    checkInput(item, `${field}.${key}`, root, depth + 1);
  }
}

/** The same limits on the literals of a document (a validation rule: checked once per document). */
function InputLimitsRule(context: ValidationContext): ASTVisitor {
  const path: string[] = [];
  let depth = 0;
  let reported = false;
  const report = (error: GraphQLError) => {
    if (!reported) context.reportError(error);
    reported = true;
  };
  const nest = {
    enter() {
      depth++;
      if (depth > MAX_INPUT_DEPTH) report(tooDeep(path[0] ?? "query"));
    },
    leave() {
      depth--;
    },
  };
  return {
    Argument: { enter: (node) => void path.push(node.name.value), leave: () => void path.pop() },
    ObjectField: { enter: (node) => void path.push(node.name.value), leave: () => void path.pop() },
    ObjectValue: nest,
    ListValue: nest,
    StringValue(node) {
      const problem = unstorable(node.value);
      if (problem) {
        const field = path.join(".") || "query";
        report(fail.badInput(field, `${field} ${problem}.`));
      }
    },
  };
}

/**
 * Refuses, before anything runs, inputs PostgreSQL cannot store (NUL, lone surrogates) and inputs
 * nested deeper than MAX_INPUT_DEPTH, as BAD_USER_INPUT naming the variable path (`values.name`).
 * Every argument of every operation passes here, so services need not each remember it; the
 * error masker maps PostgreSQL's own refusals (22021, 22P05) the same way as a backstop.
 */
export function useInputLimits(): Plugin {
  const checkVariables = (variables: unknown) => {
    if (!variables || typeof variables !== "object") return;
    for (const [name, value] of Object.entries(variables)) checkInput(value, name);
  };
  return {
    // graphql-js parses literals recursively: a few thousand levels overflow the stack.
    onParse: ({ parseFn, setParseFn }) =>
      setParseFn((source, options) => {
        try {
          return parseFn(source, options);
        } catch (error) {
          if (error instanceof RangeError) {
            throw fail.badInput("query", `The document nests deeper than ${MAX_INPUT_DEPTH} levels.`);
          }
          throw error;
        }
      }),
    onValidate: ({ addValidationRule }) => addValidationRule(InputLimitsRule),
    onExecute: ({ args }) => checkVariables(args.variableValues),
    onSubscribe: ({ args }) => checkVariables(args.variableValues),
  };
}

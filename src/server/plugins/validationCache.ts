import type { DocumentNode, GraphQLSchema } from "graphql";
import type { Plugin } from "graphql-yoga";

/**
 * A document's validation result, cached by schema and document (the parser cache hands back one
 * document object per query text). Yoga's own validation cache (off in graphql.ts) also keys by the
 * rules, the names of every rule joined anew on every request: ~2% of a small read's server CPU
 * (bench/README.md). Here every request validates with the same rules (graphql-js's, then the ones
 * `useInputLimits` and the shape limits add), so the schema and the document are the whole key.
 * Placed first among the plugins, as Yoga's is: what it caches is the result every rule gave.
 */
export function useValidationCache(): Plugin {
  const results = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, readonly Error[]>>();
  return {
    onValidate({ params: { schema, documentAST }, setResult }) {
      let bySchema = results.get(schema);
      if (!bySchema) {
        bySchema = new WeakMap();
        results.set(schema, bySchema);
      }
      const cached = bySchema.get(documentAST);
      if (cached) {
        setResult(cached);
        return;
      }
      return ({ result }) => {
        bySchema.set(documentAST, result);
      };
    },
  };
}

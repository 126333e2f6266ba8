import type { DocumentNode, ExecutionResult, GraphQLSchema } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { Context } from "../../kernel/index.ts";
import { type ReadShape, readShape, renderRead } from "../../resources/index.ts";

/**
 * Answers the common list read (`resources { nodes { … } }`, see resources/renderedReads.ts) with
 * nodes PostgreSQL rendered, before the executor runs; any other operation, or one it cannot
 * answer, executes as usual. Last among the plugins: the others' onExecute hooks run first.
 */
export function useRenderedReads(schema: GraphQLSchema): Plugin<Context> {
  const shapes = new WeakMap<DocumentNode, ReadShape | null>();
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      let shape = shapes.get(args.document);
      if (shape === undefined) {
        shape = readShape(args.document);
        shapes.set(args.document, shape);
      }
      if (!shape) return;
      const { operationName, variableValues: variables } = args;
      const data = await renderRead(
        schema,
        shape,
        { operationName, variables },
        args.contextValue as Context,
      );
      if (data === undefined) return;
      // Yoga writes a result that has its own `stringify` as that gives it: the nodes as PostgreSQL
      // rendered them, never parsed here. Whatever else reads `data` (a WebSocket's message) gets
      // it parsed.
      let parsed: Record<string, unknown> | undefined;
      setResultAndStopExecution({
        get data() {
          parsed ??= JSON.parse(data) as Record<string, unknown>;
          return parsed;
        },
        stringify: () => `{"data":${data}}`,
      } as ExecutionResult);
    },
  };
}

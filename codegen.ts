import type { CodegenConfig } from "@graphql-codegen/cli";

/** `npm run codegen`: the typed client's types and documents, from the committed schema. */
const config: CodegenConfig = {
  schema: "schema/schema.graphql",
  documents: "src/client/operations/**/*.graphql",
  generates: {
    "src/client/generated.ts": {
      plugins: ["typescript-operations", "typed-document-node"],
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        avoidOptionals: { field: true, inputValue: false, object: false },
        scalars: { DateTime: "string", JSON: "unknown", ID: "string", Upload: "Blob" },
      },
    },
  },
};

export default config;

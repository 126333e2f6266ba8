import SchemaBuilder from "@pothos/core";
import SimpleObjectsPlugin from "@pothos/plugin-simple-objects";
import type { Context } from "./context.ts";

/** The one schema builder: context and scalars are typed here, once. */
export const builder = new SchemaBuilder<{
  Context: Context;
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date | string };
    // biome-ignore lint/complexity/noBannedTypes: `{}` is "any non-null value", what the JSON scalar gives.
    JSON: { Input: {} | null; Output: unknown };
    /** A file part of a GraphQL multipart request (a WHATWG Blob/File). */
    Upload: { Input: Blob & { name?: string }; Output: never };
  };
}>({ plugins: [SimpleObjectsPlugin], defaultFieldNullability: false });

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});

/** Imports every schema part, then builds the schema. Nothing else lives here. */
import "../kernel/scalars.ts";
import "../kernel/node.ts";
import "../auth/schema.ts";
import "../metadata/schema.ts";
import "../resources/schema.ts";
import "../resources/mutations.ts";
import "../changes/schema.ts";
import "../changes/schemaChangesSchema.ts";
import "../webhooks/schema.ts";
import "../webhooks/mutations.ts";
import "../subscriptions/schema.ts";
import "../auth/passwordSchema.ts";
import "../oauth/schema.ts";
import "../files/schema.ts";
import { lexicographicSortSchema } from "graphql";
import { builder } from "../kernel/builder.ts";

export const schema = lexicographicSortSchema(builder.toSchema());

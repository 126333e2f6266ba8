/**
 * Loads every folder whose public module registers GraphQL types and fields with the kernel's
 * builder, then builds the schema. Nothing else lives here.
 */
import "../auth/index.ts";
import "../metadata/index.ts";
import "../resources/index.ts";
import "../changes/index.ts";
import "../webhooks/index.ts";
import "../subscriptions/index.ts";
import "../oauth/index.ts";
import "../files/index.ts";
import { lexicographicSortSchema } from "graphql";
import { builder } from "../kernel/index.ts";

export const schema = lexicographicSortSchema(builder.toSchema());

import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { printSchema } from "graphql";
import { schema } from "./schema.ts";

/** `npm run schema`: prints the sorted schema to schema/schema.graphql (committed; CI checks drift). */
const target = fileURLToPath(new URL("../../schema/schema.graphql", import.meta.url));
writeFileSync(target, `${printSchema(schema)}\n`);
console.log(`wrote ${target}`);

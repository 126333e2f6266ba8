import { createServer } from "node:http";
import { createSchema, createYoga } from "graphql-yoga";

/**
 * The baseline: graphql-yoga answering `{ viewer { member { id } } }` with no auth and no database.
 * BARE_BODY_LIMIT=off turns off Yoga's per-request body-size stream, as Plugboard does (it checks
 * Content-Length up front and counts only chunked bodies), so the two differ by auth and context alone.
 */
const yoga = createYoga({
  logging: false,
  ...(process.env.BARE_BODY_LIMIT === "off" ? { maxRequestBodySize: false as const } : {}),
  schema: createSchema({
    typeDefs: "type Member { id: ID! } type Viewer { member: Member! } type Query { viewer: Viewer! }",
    resolvers: { Query: { viewer: () => ({ member: { id: "mem_bare" } }) } },
  }),
});
createServer(yoga).listen(Number(process.env.PORT), "127.0.0.1");
// Exit through process.exit so `node --cpu-prof` can write its profile.
process.on("SIGTERM", () => process.exit(0));

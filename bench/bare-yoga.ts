import { createServer } from "node:http";
import { createSchema, createYoga } from "graphql-yoga";

/** The baseline: graphql-yoga answering `{ viewer { member { id } } }` with no auth and no database. */
const yoga = createYoga({
  logging: false,
  schema: createSchema({
    typeDefs: "type Member { id: ID! } type Viewer { member: Member! } type Query { viewer: Viewer! }",
    resolvers: { Query: { viewer: () => ({ member: { id: "mem_bare" } }) } },
  }),
});
createServer(yoga).listen(Number(process.env.PORT), "127.0.0.1");

// PostGraphile 5 as its CLI serves it (library mode, Amber preset, grafserv on node:http), over the
// plain accounts/contacts schema. Runs on the Node from bench/peers/.deps (see deps.ts), where
// PostGraphile is installed: `node postgraphile.cjs` with DATABASE_URL and PORT.
const { createServer } = require("node:http");
const { createRequire } = require("node:module");
const path = require("node:path");

const deps = createRequire(path.join(__dirname, ".deps", "package.json"));
const { postgraphile } = deps("postgraphile");
const { PostGraphileAmberPreset } = deps("postgraphile/presets/amber");
const { makePgService } = deps("postgraphile/adaptors/pg");
const { grafserv } = deps("postgraphile/grafserv/node");

const pgl = postgraphile({
  extends: [PostGraphileAmberPreset],
  pgServices: [makePgService({ connectionString: process.env.DATABASE_URL, schemas: ["public"] })],
  grafserv: { graphqlPath: "/graphql", graphiql: false },
  grafast: { explain: false },
});
const server = createServer();
pgl
  .createServ(grafserv)
  .addTo(server)
  .then(() => server.listen({ port: Number(process.env.PORT), host: "127.0.0.1" }))
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });

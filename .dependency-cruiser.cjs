/**
 * Plugboard's dependency rules (`npm run depcheck`, run by .ci/run). The order is one-way:
 *
 *   shared layer (builder, context, errors, env, ids, the database layer)
 *     ← domain folders (auth, changes, files, limits, metadata, oauth, resources, subscriptions, webhooks)
 *       ← server/ (wiring: the app, the CLI, the GraphQL schema's assembly)
 *
 * Violations that predate these rules are listed in .dependency-cruiser-known-violations.json and
 * tolerated; CI fails on any new one. Fixing one: remove it from the code, then regenerate the list
 * (`npm run depcheck:baseline`) so it cannot come back.
 */

const DOMAINS = "auth|changes|files|limits|metadata|oauth|resources|subscriptions|webhooks";
const DOMAIN = `^src/(${DOMAINS})/`;

/**
 * The shared layer. Some of its files still live under server/ and schema/ (a later move puts them
 * in one folder); until then they are named here one by one.
 */
const SHARED = [
  "^src/db/(client|ids|migrate|dataDirLock)\\.ts$",
  "^src/schema/(builder|errors|node|scalars)\\.ts$",
  "^src/server/(context|env|logger)\\.ts$",
];

/**
 * Wiring: what assembles the domains. `db/tables.ts` gathers every domain's tables for Drizzle's
 * typed schema, `schema/index.ts` and `schema/print.ts` every domain's GraphQL types.
 */
const WIRING = ["^src/server/", "^src/db/tables\\.ts$", "^src/schema/(index|print)\\.ts$"];

/** A domain's public module: what other domains may import from it. */
const PUBLIC = "index\\.ts$";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "domain-not-to-server",
      severity: "error",
      comment:
        "A domain folder imports server/ wiring. Domains are wired by server/, never the other way: " +
        "move what the domain needs into the domain or the shared layer.",
      from: { path: DOMAIN },
      to: { path: WIRING, pathNot: SHARED },
    },
    {
      name: "shared-not-to-domain",
      severity: "error",
      comment:
        "The shared layer imports a domain or server/ wiring. The shared layer must stand alone: " +
        "domains build on it.",
      from: { path: SHARED },
      to: { path: [DOMAIN, ...WIRING], pathNot: SHARED },
    },
    {
      name: "no-circular",
      severity: "error",
      comment: "Modules that depend on each other, directly or through others: break the loop.",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "no-foreign-tables",
      severity: "error",
      comment:
        "A domain reads another domain's tables. Ask the owning domain through its public module " +
        "(e.g. auth's members: src/auth/index.ts).",
      // A table may reference another domain's table in a foreign key: that is the schema, not a
      // read. Row types (type-only imports) read nothing either.
      from: { path: DOMAIN, pathNot: "/tables\\.ts$" },
      to: {
        path: `^src/(${DOMAINS})/tables\\.ts$`,
        pathNot: "^src/$1/",
        dependencyTypesNot: ["type-only"],
      },
    },
    {
      name: "server-not-to-tables",
      severity: "error",
      comment:
        "server/ reads or writes a domain's tables. It wires domains; the owning domain's public " +
        "module does the reading (e.g. auth's members: src/auth/index.ts).",
      from: { path: "^src/server/" },
      to: { path: `^src/(${DOMAINS})/tables\\.ts$`, dependencyTypesNot: ["type-only"] },
    },
    {
      name: "no-deep-domain-import",
      severity: "error",
      comment:
        "A domain imports another domain's private file. Import its public module " +
        "(src/<domain>/index.ts) instead, and export what is needed there.",
      from: { path: DOMAIN },
      to: { path: DOMAIN, pathNot: ["^src/$1/", PUBLIC, `^src/(${DOMAINS})/tables\\.ts$`] },
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      comment: "An import that resolves to nothing.",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    includeOnly: "^src/",
    exclude: { path: "^src/client/generated\\.ts$" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".js", ".json"],
    },
  },
};

/**
 * Plugboard's dependency rules (`npm run depcheck`, run by .ci/run). The order is one-way, and no
 * violation is tolerated:
 *
 *   kernel/ (database client, ids, migrations, schema builder, errors, GraphQL context, env, logger)
 *     ← ledger/ and the domain folders (auth, metadata, resources, files, changes, limits,
 *       subscriptions, webhooks, oauth), which import each other without cycles
 *       ← server/ (wiring: the app, the CLI, services, the tables and GraphQL schema's assembly)
 *
 * Every folder but server/ has one public module, its index.ts: other folders import only that.
 */

const DOMAINS = "auth|changes|files|ledger|limits|metadata|oauth|resources|subscriptions|webhooks";
const DOMAIN = `^src/(${DOMAINS})/`;
const KERNEL = "^src/kernel/";
const WIRING = "^src/server/";

/** A folder's public module: what other folders may import from it. */
const PUBLIC = "index\\.ts$";

/** The file that gathers every domain's tables for Drizzle (drizzle.config.ts points at it). */
const TABLES_WIRING = "^src/server/tables\\.ts$";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "kernel-stands-alone",
      severity: "error",
      comment:
        "The kernel imports something outside itself. Everything builds on the kernel, so it imports " +
        "no domain, no ledger and no wiring: move what it needs down into it, or let server/ declare " +
        "it (see Tables in kernel/db.ts and Context in kernel/context.ts).",
      from: { path: KERNEL },
      to: { path: "^src/", pathNot: KERNEL },
    },
    {
      name: "domain-not-to-server",
      severity: "error",
      comment:
        "A domain (or the ledger) imports server/ wiring. Domains are wired by server/, never the " +
        "other way: move what the domain needs into it or into the kernel, or pass it in from server/.",
      from: { path: DOMAIN },
      to: { path: WIRING },
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
        "A folder imports another domain's tables. Ask the owning domain through its public module " +
        "(e.g. auth's members: src/auth/index.ts); the ledger writes resources and changes rows.",
      // A table may reference another domain's table in a foreign key: that is the schema, not a read.
      from: { path: "^src/([^/]+)/", pathNot: ["/tables\\.ts$"] },
      to: { path: `^src/(${DOMAINS})/tables\\.ts$`, pathNot: "^src/$1/" },
    },
    {
      name: "public-module-only",
      severity: "error",
      comment:
        "A folder imports another folder's private file. Import its public module " +
        "(src/<folder>/index.ts) instead, and export what is needed there.",
      from: { path: "^src/([^/]+)/", pathNot: [TABLES_WIRING, "/tables\\.ts$"] },
      to: { path: `^src/(kernel|${DOMAINS})/`, pathNot: ["^src/$1/", PUBLIC] },
    },
    {
      name: "tables-only-to-tables",
      severity: "error",
      comment:
        "A tables.ts imports another folder's file that is not a tables.ts: tables files are loaded " +
        "by drizzle-kit on their own and may only reference other tables (foreign keys).",
      from: { path: "/tables\\.ts$", pathNot: TABLES_WIRING },
      to: { path: "^src/([^/]+)/", pathNot: ["^src/$1/", "/tables\\.ts$"] },
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

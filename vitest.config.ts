import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { defineConfig, type TestProjectInlineConfiguration } from "vitest/config";

// Every suite runs on PGlite; with TEST_DATABASE_URL it runs on PostgreSQL as well, each test file
// in a database cloned from a migrated template.
const projects: TestProjectInlineConfiguration[] = [
  {
    extends: true,
    test: {
      name: "pglite",
      env: { PLUGBOARD_TEST_DB: "pglite" },
      maxWorkers: 2,
      sequence: { groupOrder: 0 },
      globalSetup: ["test/helpers/pgliteTemplate.ts"],
    },
  },
];
if (process.env.TEST_DATABASE_URL) {
  projects.push({
    extends: true,
    test: {
      name: "postgres",
      env: { PLUGBOARD_TEST_DB: "postgres" },
      // One file at a time: a change is numbered once every older transaction in the cluster has
      // ended (drizzle/0001), so one file's long write (a 100,000-row seed) held back the feed of
      // another file's database past the 2 s a reader waits.
      maxWorkers: 1,
      sequence: { groupOrder: 1 },
      globalSetup: ["test/helpers/postgresTemplate.ts"],
    },
  });
}

export default defineConfig({
  // One copy of graphql: packages that `require` it (Pothos) and ESM imports must share it.
  // `plugboard/client` (the package's own export, as the example connector imports it) runs from source.
  resolve: {
    alias: {
      graphql: createRequire(import.meta.url).resolve("graphql"),
      "plugboard/client": fileURLToPath(new URL("src/client/index.ts", import.meta.url)),
    },
  },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // One module graph per worker instead of per file: importing the app was ~300 s of the suite.
    // Files share modules, not state: each starts its own server over its own database.
    isolate: false,
    projects,
  },
});

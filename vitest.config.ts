import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { defineConfig, type TestProjectInlineConfiguration } from "vitest/config";

type TestDb = "pglite" | "postgres";

/** The suite on one database: its own global setup (test/helpers/<db>Template.ts), workers and turn. */
function suiteOn(db: TestDb, maxWorkers: number, groupOrder: number): TestProjectInlineConfiguration {
  return {
    extends: true,
    test: {
      name: db,
      env: { PLUGBOARD_TEST_DB: db },
      maxWorkers,
      sequence: { groupOrder },
      globalSetup: [`test/helpers/${db}Template.ts`],
    },
  };
}

// Every suite runs on PGlite, two files at a time; with TEST_DATABASE_URL it then runs on
// PostgreSQL, each test file in a database cloned from a migrated template, one file at a time: a
// change is numbered once every older transaction in the cluster has ended (drizzle/0001), so one
// file's long write (a 100,000-row seed) held back the feed of another file's database past the
// 2 s a reader waits.
const projects = [suiteOn("pglite", 2, 0)];
if (process.env.TEST_DATABASE_URL) projects.push(suiteOn("postgres", 1, 1));

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

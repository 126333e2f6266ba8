import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { migrate } from "../../src/kernel/migrate.ts";
import { openDatabase } from "../../src/server/database.ts";

/**
 * Vitest global setup for the PGlite project: one migrated PGlite data directory per run, dumped to
 * a file; every test server starts from it (`memoryImage`) instead of PGlite's initdb and the
 * migrations, which cost ~3 s a server on this machine against ~1 s to load the image.
 */
export default async function setup(project: TestProject) {
  const database = await openDatabase({ dataDir: "memory://" });
  await migrate(database.db);
  const client = (database.db as unknown as { $client: { dumpDataDir(c: "none"): Promise<Blob> } }).$client;
  const image = await client.dumpDataDir("none");
  await database.close();
  const dir = mkdtempSync(path.join(tmpdir(), "plugboard-pglite-"));
  const file = path.join(dir, "migrated.tar");
  writeFileSync(file, Buffer.from(await image.arrayBuffer()));
  project.provide("pgliteImage", file);
  return () => rmSync(dir, { recursive: true, force: true });
}

declare module "vitest" {
  export interface ProvidedContext {
    pgliteImage: string;
  }
}

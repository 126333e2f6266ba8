import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import postgres from "postgres";
import { inject } from "vitest";
import type { Db } from "../../src/kernel/db.ts";

export interface TestDatabase {
  /** A postgres:// URL, or undefined for in-memory PGlite. */
  url: string | undefined;
  kind: "pglite" | "postgres";
  /** PGlite: the migrated data directory to start from (see pgliteTemplate.ts). */
  image?: Blob;
  drop(): Promise<void>;
}

export const testDbKind = process.env.PLUGBOARD_TEST_DB === "postgres" ? "postgres" : "pglite";

let pgliteImage: Promise<Blob | undefined> | undefined;

/** The PGlite project's migrated image, read once per worker (absent outside that project). */
function migratedPgliteImage(): Promise<Blob | undefined> {
  pgliteImage ??= (async () => {
    const file = inject("pgliteImage");
    return file ? new Blob([await readFile(file)], { type: "application/x-tar" }) : undefined;
  })();
  return pgliteImage;
}

/** A fresh database for one test file: a clone of the migrated template, or in-memory PGlite. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (testDbKind !== "postgres" || !adminUrl)
    return { url: undefined, kind: "pglite", image: await migratedPgliteImage(), drop: async () => {} };
  const template = inject("postgresTemplate");
  const name = `plugboard_t_${randomBytes(6).toString("hex")}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  // CREATE DATABASE … TEMPLATE needs the template to have no other sessions; clones can race.
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.unsafe(`create database ${name} template ${template}`);
      break;
    } catch (error) {
      if (attempt > 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
    }
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    kind: "postgres",
    drop: async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

const ROLLBACK = new Error("rolled back");

/**
 * `run` in a transaction that is then rolled back, and what it returned: a measurement (a
 * statement's statistics counters, which are the transaction's own) that must leave nothing behind.
 */
export async function inRolledBackTransaction<T>(db: Db, run: (tx: Db) => Promise<T>): Promise<T> {
  let result: T | undefined;
  await db
    .transaction(async (tx) => {
      result = await run(tx);
      throw ROLLBACK;
    })
    .catch((error) => {
      if (error !== ROLLBACK) throw error;
    });
  return result as T;
}

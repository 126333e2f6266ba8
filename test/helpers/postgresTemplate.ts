import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { migrate } from "../../src/kernel/migrate.ts";
import { openDatabase } from "../../src/server/database.ts";

/**
 * Vitest global setup for the PostgreSQL project: one migrated template database per run; each test
 * file clones it (`CREATE DATABASE … TEMPLATE`), so files run in parallel on fresh data.
 */
export default async function setup(project: TestProject) {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) throw new Error("TEST_DATABASE_URL is not set");
  const template = `plugboard_tpl_${process.pid}_${Date.now().toString(36)}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${template}`);
  const url = new URL(adminUrl);
  url.pathname = `/${template}`;
  const database = await openDatabase({ url: url.toString(), dataDir: "memory://", maxConnections: 1 });
  await migrate(database.db);
  await database.close();
  project.provide("postgresTemplate", template);
  return async () => {
    await admin.unsafe(`drop database if exists ${template} with (force)`);
    await admin.end();
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    postgresTemplate: string;
  }
}

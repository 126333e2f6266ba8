import { type Database, type DatabaseOptions, openDatabaseWith } from "../kernel/index.ts";
import * as tables from "./tables.ts";

type AllTables = typeof tables;

declare module "../kernel/db.ts" {
  /** Every domain's tables: what `Db` is typed with (the kernel cannot import them itself). */
  interface Tables extends AllTables {}
}

/** Opens the configured database with every domain's tables as Drizzle's schema. */
export function openDatabase(options: DatabaseOptions): Promise<Database> {
  return openDatabaseWith(tables, options);
}

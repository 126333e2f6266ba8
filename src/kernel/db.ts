import { mkdirSync } from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import type { SQL } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import postgres, { type Sql } from "postgres";
import { acquireDataDirLock } from "./dataDirLock.ts";
import { renderSql } from "./renderSql.ts";

/**
 * Every table, for Drizzle's typed client (`db.query.*`). The kernel imports no domain: server/
 * wiring gathers the domains' tables (server/tables.ts) and declares them here by declaration
 * merging (server/database.ts), so `Db` is as precisely typed as if the kernel imported them.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging in server/database.ts.
export interface Tables {}

/** The Drizzle database (or a transaction on it); the same type for PGlite and postgres.js. */
export type Db = PgDatabase<PgQueryResultHKT, { [K in keyof Tables]: Tables[K] }>;

/**
 * LISTENs on a channel; resolves once listening, to a function that stops. `onListen` runs on every
 * (re)listen: notifications sent while the connection was down are lost, so caches start over.
 */
export type Listen = (
  channel: string,
  onNotify: (payload: string) => void,
  onListen?: () => void,
) => Promise<() => Promise<void>>;

export interface Database {
  /** Requests' database: statements on a few pipelined connections, transactions on the pool. */
  db: Db;
  /**
   * Background work's database (numbering changes, webhook deliveries, housekeeping): on
   * PostgreSQL everything runs on the pool, so a long pass never holds up requests' statements
   * queued behind it on a pipelined connection. On PGlite, the same as `db`.
   */
  backgroundDb: Db;
  kind: "pglite" | "postgres";
  /** PostgreSQL only: cross-process wake-ups (PGlite is single-process, local events suffice). */
  listen?: Listen;
  /** PostgreSQL only: a `COPY … TO STDOUT` on the pool, as the bytes PostgreSQL sends. */
  copyOut?: CopyOut;
  close(): Promise<void>;
}

/** Streams a `COPY (…) TO STDOUT` statement's output (no parameters: COPY takes none). */
export type CopyOut = (statement: string) => Promise<AsyncIterable<Uint8Array>>;

/** What a server needs of an open database (tests build a second "process" on the same one). */
export type DatabaseHandles = Pick<Database, "db" | "backgroundDb" | "listen" | "copyOut">;

export interface DatabaseOptions {
  /** A postgres:// URL; when absent, embedded PGlite in `dataDir`. */
  url?: string | undefined;
  /** PGlite's directory, or `memory://` for none. */
  dataDir: string;
  /** postgres.js pool for transactions and background work: its size (default 10). */
  maxConnections?: number;
  /** Connections that run requests' autocommit statements, pipelined (default 3). */
  statementConnections?: number;
  /** Called for every SQL statement Drizzle sends (tests count statements with it). */
  onQuery?: (query: string, params: unknown[]) => void;
  /**
   * In-memory PGlite only: start from this data directory (a `dumpDataDir` tarball) instead of a
   * fresh initdb, which takes PGlite seconds. Tests start every server from one migrated image.
   */
  memoryImage?: Blob;
}

/** Opens the database with `tables` as Drizzle's schema; server/database.ts passes every domain's. */
export async function openDatabaseWith(tables: Tables, options: DatabaseOptions): Promise<Database> {
  const onQuery = options.onQuery;
  const logger = onQuery
    ? { logQuery: (query: string, params: unknown[]) => onQuery(query, params) }
    : undefined;
  if (options.url) {
    const connect = (max: number, settings: Record<string, string> = {}) =>
      postgres(options.url as string, {
        max,
        onnotice: () => {},
        // Sessions run in UTC: timestamps read as text print as "…+00" (see ledger/rows.ts),
        // whatever the server's default time zone. PGlite's sessions are UTC already.
        connection: { application_name: "plugboard", TimeZone: "UTC", ...settings },
      });
    const pool = connect(options.maxConnections ?? 10);
    const statements = connect(options.statementConnections ?? 3);
    const planned = connect(PLANNED_CONNECTIONS, { plan_cache_mode: "force_custom_plan" });
    // Each Drizzle instance sets its client's type parsers (timestamps stay text): both pools get them.
    const db = drizzlePostgres(preparedByDefault(statements, pool, planned), {
      schema: tables,
      logger,
    }) as unknown as Db;
    const backgroundDb = drizzlePostgres(preparedByDefault(pool, pool), {
      schema: tables,
      logger,
    }) as unknown as Db;
    drizzlePostgres(planned); // only for the type parsers and serializers it sets on `planned`
    // postgres.js keeps LISTENs on one dedicated connection and re-listens after reconnecting.
    const listen: Listen = async (channel, onNotify, onListen) => {
      const { unlisten } = await pool.listen(channel, onNotify, onListen);
      return unlisten;
    };
    const close = async () => {
      await Promise.all([
        statements.end({ timeout: 5 }),
        planned.end({ timeout: 5 }),
        pool.end({ timeout: 5 }),
      ]);
    };
    const copyOut: CopyOut = (statement) => pool.unsafe(statement).readable();
    return { db, backgroundDb, kind: "postgres", listen, copyOut, close };
  }
  if (options.dataDir.startsWith("memory://")) {
    const client = await PGlite.create(options.memoryImage ? { loadDataDir: options.memoryImage } : {});
    const db = drizzlePglite(client, { schema: tables, logger }) as unknown as Db;
    return { db, backgroundDb: db, kind: "pglite", close: () => client.close() };
  }
  // PGlite is single-process: refuse a second process on the same directory with a clear message.
  const dir = path.resolve(options.dataDir);
  mkdirSync(dir, { recursive: true });
  const releaseLock = acquireDataDirLock(dir);
  try {
    const client = await PGlite.create(path.join(dir, "pgdata"));
    const db = drizzlePglite(client, { schema: tables, logger }) as unknown as Db;
    return {
      db,
      backgroundDb: db,
      kind: "pglite",
      close: async () => {
        await client.close();
        releaseLock();
      },
    };
  } catch (error) {
    releaseLock();
    throw error;
  }
}

/**
 * Leads a statement that PostgreSQL must plan for its parameters' values on every execution. A
 * prepared statement gets a generic plan after five executions, and for a filtered listing that
 * plan cannot know how selective the filter is: `where email eq` went from ~1 ms to ~500 ms per
 * request at 1M contacts (walking the primary key in order through every row instead of the GIN
 * index; bench:peers). Outside transactions such statements run prepared on connections whose
 * sessions never use a generic plan (`plan_cache_mode = force_custom_plan`): planned for their
 * values each time, but parsed and described once per connection instead of on every execution.
 * Inside a transaction they run unprepared (PostgreSQL's unnamed statement, planned anew).
 */
export const PLANNED_PER_EXECUTION = "/* planned per execution */ ";

/** Connections for PLANNED_PER_EXECUTION statements (pipelined, as the statement pool). */
const PLANNED_CONNECTIONS = 2;

/**
 * The postgres.js client Drizzle sees: autocommit statements run on `statements` (those planned
 * per execution on `planned`, see PLANNED_PER_EXECUTION), transactions (and their savepoints) on
 * `transactions`.
 *
 * Prepared: Drizzle runs postgres.js statements unprepared, which postgres.js sends as two round
 * trips (describe, then bind/execute) and PostgreSQL parses and plans every time. Preparing them all
 * halves the round trips and skips re-planning (measured on the page-of-50 read: see
 * bench/resources.ts). postgres.js caches statements per connection by text and recycles
 * connections (`max_lifetime`), so the cache stays bounded; statements without parameters still use
 * the simple protocol.
 *
 * Separate pools: postgres.js pipelines statements onto busy connections, so a few connections carry
 * any number of concurrent requests' reads, several per socket write and per wake-up of a
 * PostgreSQL backend. On the page-of-50 read at 32 connections (2 cores) a 3-connection statement
 * pool served 17-23% more requests/s than the 10-connection pool, with a third less PostgreSQL CPU
 * per request. Transactions reserve a connection for several round trips, so they keep the larger
 * pool: on the 3 connections alone, createResource lost ~9%.
 */
function preparedByDefault(statements: Sql, transactions: Sql, planned?: Sql): Sql {
  return new Proxy(statements, {
    get(target, property, receiver) {
      if (property === "unsafe")
        return (query: string, args?: unknown[], options?: object) => {
          const perExecution = query.startsWith(PLANNED_PER_EXECUTION);
          if (perExecution && planned)
            return planned.unsafe(query, args as never, { ...options, prepare: true });
          return target.unsafe(query, args as never, { ...options, prepare: !perExecution });
        };
      // Transactions and savepoints hand Drizzle a scoped client: wrap that one too.
      if (property === "begin" || property === "savepoint")
        return (...args: unknown[]) => {
          const body = args.pop() as (scoped: Sql) => unknown;
          const scopedRun = Reflect.get(transactions, property) as (...a: unknown[]) => unknown;
          return scopedRun.call(transactions, ...args, (scoped: Sql) =>
            body(preparedByDefault(scoped, scoped)),
          );
        };
      return Reflect.get(target, property, receiver);
    },
  });
}

/**
 * Runs a statement whose rows the driver returns as arrays in column order, each turned into a `T`
 * by `map`. On hot reads (a page of resources and its linked rows) this skips the driver's
 * per-row object keyed by column name, which `map` would only copy into another object. Fixed
 * text (`{ text, params }`) also skips Drizzle's SQL builder: on the write path, building each
 * statement took more Node CPU than PostgreSQL spent running it (bench/changes.ts); a template is
 * rendered by `renderSql`, which skips most of Drizzle's walk over it. Either way it
 * goes through Drizzle's session, so the transaction, the statement logger and the
 * prepared-statement cache apply. Pass JSON parameters as text and cast them (`$1::jsonb`).
 */
export async function queryTuples<T>(
  db: Db,
  query: SQL | { text: string; params: unknown[] },
  map: (row: unknown[]) => T,
): Promise<T[]> {
  const rendered = "text" in query ? { sql: query.text, params: query.params } : renderSql(query);
  const statement = db._.session.prepareQuery(rendered, undefined, undefined, true, (rows) => {
    // A loop, not rows.map: postgres.js's result array is a subclass, so map would build another.
    const mapped = new Array<T>(rows.length);
    for (let i = 0; i < rows.length; i++) mapped[i] = map(rows[i] as unknown[]);
    return mapped;
  });
  return (await statement.execute()) as T[];
}

function rowsOf<T>(result: unknown): T[] {
  return Array.isArray(result) ? result : (result as { rows: T[] }).rows;
}

/** Runs raw SQL and returns its rows, hiding the drivers' different result shapes. */
export async function queryRows<T>(db: Db, query: SQL): Promise<T[]> {
  return rowsOf<T>(await db.execute(query));
}

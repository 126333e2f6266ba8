/**
 * The kernel's public module: what every other folder builds on (database client, ids,
 * migrations, schema builder, errors, Node, GraphQL context, env, logger). The kernel imports
 * nothing outside itself (.dependency-cruiser.cjs).
 */

// Its GraphQL types and fields register with the kernel's builder when this module loads.
import "./scalars.ts";
import "./node.ts";

export { builder } from "./builder.ts";
export { actorOf, type Context } from "./context.ts";
export {
  type CopyOut,
  type Database,
  type DatabaseHandles,
  type DatabaseOptions,
  type Db,
  type Listen,
  openDatabaseWith,
  PLANNED_PER_EXECUTION,
  queryRows,
  queryTuples,
} from "./db.ts";
export { ConfigError, type Env, loadEnv } from "./env.ts";
export { AppError, fail, isAppErrorCode } from "./errors.ts";
export { idKind, newId } from "./ids.ts";
export { createLogger } from "./logger.ts";
export { migrate, pendingMigrationCount } from "./migrate.ts";
export { NodeRef, registerNode } from "./node.ts";
export { PageInfoRef } from "./pageInfo.ts";
export {
  fillStatement,
  hole,
  type KeptStatement,
  keepStatement,
  renderSql,
  sqlTextLiteral,
} from "./renderSql.ts";

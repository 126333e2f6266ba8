import { checkFileReferences } from "../src/files/index.ts";
import { queryTuples } from "../src/kernel/db.ts";
import { loadEnv } from "../src/kernel/env.ts";
import { createLogger } from "../src/kernel/logger.ts";
import { fromTuple, RESOURCE_COLUMNS } from "../src/ledger/rows.ts";
import type { ResourceRow } from "../src/ledger/tables.ts";
import { ROW_STATEMENTS, type WritePath } from "../src/ledger/writePath.ts";
import { ResourceService } from "../src/resources/service.ts";
import { buildApp } from "../src/server/app.ts";
import { openConfiguredDatabase, prepareDatabase } from "../src/server/runtime.ts";

/**
 * bench/changes.ts's end-to-end server: Plugboard as `plugboard serve` builds it or, with
 * WITHOUT_CAPTURE=1, the same server whose updates write the same row with the same statement and
 * no change row (so nothing to number either): "the same update without change capture".
 */
const rowsOnly: WritePath = {
  async commit(tx, _actor, _catalog, ops) {
    const rows: ResourceRow[] = [];
    for (const op of ops) {
      if (op.kind !== "update") throw new Error("this bench server only updates");
      const next = { ...op.before, ...op.state };
      const [row] = await queryTuples(
        tx,
        {
          text: `${ROW_STATEMENTS.update.text} returning ${RESOURCE_COLUMNS}`,
          params: [next.id, next.name, next.parentId, next.assigneeId, JSON.stringify(next.values)],
        },
        fromTuple,
      );
      rows.push(row as ResourceRow);
    }
    return rows;
  },
  committed: () => {},
};

const env = loadEnv(process.env);
const logger = createLogger(env.PLUGBOARD_LOG_LEVEL);
const database = await openConfiguredDatabase(env);
await prepareDatabase(database, env, logger);
const app = buildApp({ database, env, logger });
if (process.env.WITHOUT_CAPTURE === "1") {
  app.services.resources = new ResourceService(
    database.db,
    app.services.catalogs,
    rowsOnly,
    checkFileReferences,
  );
}
app.server.listen(env.PORT, env.HOST);
process.on("SIGTERM", () => void app.close().then(() => database.close().then(() => process.exit(0))));

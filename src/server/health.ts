import type { ServerResponse } from "node:http";
import { sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { pendingMigrationCount } from "../db/migrate.ts";
import type { Services } from "./services.ts";

function send(res: ServerResponse, status: number, body: object): void {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}

/**
 * `/healthz`: the process runs. `/readyz`: the database answers and every migration is applied.
 * `/metrics`: Prometheus text with how far the change feed is behind (writes not yet numbered and
 * the age of the oldest — a long-running transaction anywhere in the database holds the feed back).
 */
export function handleHealth(path: string, res: ServerResponse, db: Db, services: Services): boolean {
  if (path === "/healthz") {
    send(res, 200, { status: "ok" });
    return true;
  }
  if (path === "/readyz") {
    (async () => {
      try {
        await db.execute(sql`select 1`);
        const pending = await pendingMigrationCount(db);
        if (pending > 0)
          send(res, 503, { status: "unavailable", reason: `${pending} migrations not applied` });
        else send(res, 200, { status: "ready" });
      } catch {
        send(res, 503, { status: "unavailable", reason: "database unreachable" });
      }
    })();
    return true;
  }
  if (path === "/metrics") {
    (async () => {
      try {
        const lag = await services.sequencer.lag();
        res.writeHead(200, { "content-type": "text/plain; version=0.0.4", "cache-control": "no-store" });
        res.end(
          [
            "# HELP plugboard_changes_unsequenced Change rows written but not yet given a public id.",
            "# TYPE plugboard_changes_unsequenced gauge",
            `plugboard_changes_unsequenced ${lag.pending}`,
            "# HELP plugboard_changes_lag_seconds Age of the oldest change row not yet given a public id.",
            "# TYPE plugboard_changes_lag_seconds gauge",
            `plugboard_changes_lag_seconds ${lag.oldestSeconds}`,
            "",
          ].join("\n"),
        );
      } catch {
        send(res, 503, { status: "unavailable", reason: "database unreachable" });
      }
    })();
    return true;
  }
  return false;
}

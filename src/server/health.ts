import type { IncomingMessage, ServerResponse } from "node:http";
import { sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { pendingMigrationCount } from "../db/migrate.ts";

function send(res: ServerResponse, status: number, body: object): void {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}

/** `/healthz`: the process runs. `/readyz`: the database answers and every migration is applied. */
export function handleHealth(req: IncomingMessage, res: ServerResponse, db: Db): boolean {
  const path = (req.url ?? "/").split("?")[0];
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
  return false;
}

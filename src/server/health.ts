import type { ServerResponse } from "node:http";
import { sql } from "drizzle-orm";
import type { Db } from "../kernel/index.ts";
import { pendingMigrationCount } from "../kernel/index.ts";

function send(res: ServerResponse, status: number, body: object): void {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}

/** How long `/readyz` waits for the database before answering 503. */
const READY_TIMEOUT_MS = 2_000;

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("timed out")), ms);
  });
  work.catch(() => {}); // a late failure after the timeout is not an unhandled rejection
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * `/healthz`: the process runs. `/readyz`: the database answers (within READY_TIMEOUT_MS) and every
 * migration is applied; 503 while the database is unreachable (the server reconnects by itself).
 */
export function handleHealth(path: string, res: ServerResponse, db: Db): boolean {
  if (path === "/healthz") {
    send(res, 200, { status: "ok" });
    return true;
  }
  if (path === "/readyz") {
    (async () => {
      try {
        // An unreachable host would hold the probe for the driver's connect timeout (30 s).
        const pending = await withTimeout(
          db.execute(sql`select 1`).then(() => pendingMigrationCount(db)),
          READY_TIMEOUT_MS,
        );
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

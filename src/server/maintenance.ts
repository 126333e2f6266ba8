import { pruneIdempotencyKeys } from "../resources/idempotency.ts";
import type { Services } from "./services.ts";

const EVERY_MS = 10 * 60_000;

/** Background housekeeping: change retention and expired idempotency keys. Safe in every process. */
export function startMaintenance(services: Services): () => void {
  const run = async () => {
    try {
      await services.changes.prune();
      await pruneIdempotencyKeys(services.db);
    } catch (error) {
      services.logger.warn({ err: error }, "maintenance pass failed; will retry");
    }
  };
  const timer = setInterval(() => void run(), EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}

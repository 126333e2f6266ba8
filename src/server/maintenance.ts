import { purgeOrphanFiles } from "../files/index.ts";
import { pruneChanges, purgeDeletedResources } from "../ledger/index.ts";
import { pruneIdempotencyKeys } from "../resources/index.ts";
import type { Services } from "./services.ts";

const EVERY_MS = 10 * 60_000;

/**
 * Background housekeeping, safe in every process: change retention, expired idempotency keys, and
 * soft-deleted resources past the retention period (restorable until then; their DELETED change
 * was recorded when they were deleted), and uploads never attached to a FILE field.
 */
export function startMaintenance(services: Services): () => void {
  const run = async () => {
    try {
      await runMaintenance(services);
    } catch (error) {
      services.logger.warn({ err: error }, "maintenance pass failed; will retry");
    }
  };
  const timer = setInterval(() => void run(), EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** One housekeeping pass (tests run it directly rather than wait for the timer). */
export async function runMaintenance(services: Services): Promise<void> {
  const { backgroundDb: db, env } = services;
  await pruneChanges(db, env.PLUGBOARD_CHANGE_RETENTION_DAYS);
  await pruneIdempotencyKeys(db);
  await purgeDeletedResources(db, env.PLUGBOARD_CHANGE_RETENTION_DAYS);
  await purgeOrphanFiles(db, services.files.store, env.PLUGBOARD_FILE_ORPHAN_HOURS);
  await services.limits.sweep();
}

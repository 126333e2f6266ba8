import type { Actor } from "../auth/index.ts";
import { fail } from "../kernel/index.ts";
import type { SchemaChangeFeed, SchemaChangeView } from "../ledger/index.ts";
import type { CatalogStore } from "../metadata/index.ts";
import type { CredentialHolder } from "./credentials.ts";

const PAGE_SIZE = 100;
/** Safety net for a missed wake-up (schema changes are rare; a wake comes as each one commits). */
const POLL_MS = 2_000;

/**
 * `Subscription.schemaChanges`: reads the schema change log after its cursor, yields what the
 * subscriber can see, and sleeps until a catalog of its workspace changes. Replay and live are the
 * same loop, so the seam has no gap and no duplicate.
 */
export async function* schemaChangeStream(
  feed: SchemaChangeFeed,
  catalogs: CatalogStore,
  watch: (holder: CredentialHolder) => () => void,
  initial: Actor,
  after: number,
  onRevoked: (() => void) | undefined,
): AsyncGenerator<SchemaChangeView, void, undefined> {
  let wake: (() => void) | null = null;
  let pending = false;
  const holder = {
    actor: initial,
    revoked: false,
    updateActor(actor: Actor) {
      holder.actor = actor;
    },
    revoke() {
      holder.revoked = true;
      wake?.();
    },
  };
  const stopWatching = watch(holder);
  const stopListening = catalogs.onChange((workspaceId) => {
    if (workspaceId !== initial.workspaceId) return;
    pending = true;
    wake?.();
  });
  let cursor = after;
  try {
    for (;;) {
      if (holder.revoked) {
        onRevoked?.();
        throw fail.unauthenticated(
          "The credential of this subscription was revoked or expired, or its member removed; subscribe again with a valid one.",
          true,
        );
      }
      pending = false;
      const page = await feed.visiblePage(holder.actor, cursor, PAGE_SIZE);
      for (const change of page.nodes) {
        yield change;
        cursor = Number(change.id);
      }
      cursor = Math.max(cursor, page.scannedTo);
      if (page.scannedTo < page.head || pending) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, POLL_MS);
        function done() {
          clearTimeout(timer);
          wake = null;
          resolve();
        }
        wake = done;
      });
    }
  } finally {
    stopListening();
    stopWatching();
  }
}

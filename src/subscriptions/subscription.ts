import type { Actor } from "../auth/index.ts";
import type { ChangeFeed } from "../ledger/index.ts";
import { type ChangeFilter, MATCH_NOTHING, type ResolvedFilter } from "../ledger/index.ts";
import type { Catalog } from "../metadata/index.ts";
import type { CredentialHolder } from "./credentials.ts";
import type { Wakeable } from "./notifier.ts";

/**
 * One open `Subscription.changes` stream's state: its actor (updated when the member's role
 * changes), its cursor, and the wake-up it sleeps on while caught up.
 */
export class ChangeSubscription implements Wakeable, CredentialHolder {
  /** The last change id this subscriber has been given (or scanned past). */
  cursor: number;
  revoked = false;
  ended = false;
  private pending = false;
  private resolveWait: (() => void) | null = null;
  private resolvedFor: Catalog | null = null;
  private resolved: ResolvedFilter | null = null;

  constructor(
    public actor: Actor,
    readonly filter: ChangeFilter | null,
    cursor: number,
    private readonly feed: ChangeFeed,
  ) {
    this.cursor = cursor;
  }

  get workspaceId(): string {
    return this.actor.workspaceId;
  }

  /** The filter resolved against a catalog; re-resolved when the catalog changes, so new types appear. */
  resolve(catalog: Catalog): ResolvedFilter {
    if (this.resolvedFor !== catalog || !this.resolved) {
      try {
        this.resolved = this.feed.resolveFilter(catalog, this.actor, this.filter);
      } catch (error) {
        if (!this.resolved) throw error;
        // A filtered type or field went out of sight. Lists of types and changed fields can keep
        // the old filter (trimming hides what is gone), but a filter on values must not go on
        // deciding by a value the reader can no longer see: it matches nothing from now on.
        const f = this.filter;
        if (f?.where || f?.transitions?.length) this.resolved = MATCH_NOTHING;
      }
      this.resolvedFor = catalog;
    }
    return this.resolved;
  }

  wake(): void {
    this.pending = true;
    this.resolveWait?.();
  }

  /** Sleeps until woken (or woken since the last `arm`), or `timeoutMs` passes. */
  wait(timeoutMs: number): Promise<void> {
    if (this.pending || this.ended || this.revoked) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.resolveWait = null;
        resolve();
      }
      this.resolveWait = done;
    });
  }

  /** Forget earlier wake-ups: called right before reading, so any later one is kept. */
  arm(): void {
    this.pending = false;
  }

  updateActor(actor: Actor): void {
    this.actor = actor;
    this.resolvedFor = null;
    this.wake();
  }

  revoke(): void {
    this.revoked = true;
    this.wake();
  }

  end(): void {
    this.ended = true;
    this.wake();
  }
}

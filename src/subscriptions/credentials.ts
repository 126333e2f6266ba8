import type { Logger } from "pino";
import type { Actor, Authenticator, Scope } from "../auth/index.ts";

/**
 * How often open subscriptions re-check their credential. It matches the authenticator's cache:
 * a revocation through another process ends streams here within this window; a local one at once.
 */
export const CREDENTIAL_RECHECK_MS = 5_000;

/** setTimeout's longest delay; later expiries are left to the periodic pass. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The second look after a local invalidation. */
const INVALIDATION_RECHECK_MS = 250;

/** A long-lived holder of a credential: told when it changes role or stops being valid. */
export interface CredentialHolder {
  readonly actor: Actor;
  /** The member's role or the credential's scopes changed: act as this from now on. */
  updateActor(actor: Actor): void;
  /** The credential stopped working (revoked, expired, member removed, password changed, …). */
  revoke(): void;
}

/**
 * Re-validates the credentials of everything open — subscription streams and WebSocket
 * connections — through `Authenticator.recheck` (one query per kind of credential per pass, not one
 * per holder): periodically, right after any local `Authenticator.invalidate()` (key or OAuth token
 * revoked, OAuth client deleted, member removed, role or password changed), and at each
 * credential's own expiry.
 */
export class CredentialWatch {
  private readonly holders = new Set<CredentialHolder>();
  private timer: NodeJS.Timeout | null = null;
  private checking: Promise<void> | null = null;
  private again = false;
  private readonly stopListening: () => void;

  constructor(
    private readonly auth: Authenticator,
    private readonly logger: Logger,
  ) {
    this.stopListening = auth.onInvalidate(() => {
      void this.check();
      // Some callers invalidate inside their transaction (a role change), before it commits:
      // look again once it surely has, rather than waiting for the periodic pass.
      setTimeout(() => void this.check(), INVALIDATION_RECHECK_MS).unref();
    });
  }

  add(holder: CredentialHolder): () => void {
    this.holders.add(holder);
    if (!this.timer) {
      this.timer = setInterval(() => void this.check(), CREDENTIAL_RECHECK_MS);
      this.timer.unref();
    }
    // A key or token with an end ends its holder then, not at the next periodic pass.
    const { expiresAt } = holder.actor.credential;
    const expiry =
      expiresAt !== null && expiresAt - Date.now() < MAX_TIMER_MS
        ? setTimeout(() => holder.revoke(), Math.max(0, expiresAt - Date.now()))
        : null;
    expiry?.unref();
    return () => {
      if (expiry) clearTimeout(expiry);
      this.holders.delete(holder);
      if (this.holders.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = null;
      }
    };
  }

  stop(): void {
    this.stopListening();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One pass; a call during a pass schedules one more, so a fresh invalidation is never missed. */
  check(): Promise<void> {
    if (this.checking) {
      this.again = true;
      return this.checking;
    }
    this.checking = (async () => {
      try {
        do {
          this.again = false;
          await this.pass();
        } while (this.again);
      } catch (error) {
        this.logger.warn({ err: error }, "open credential check failed; will retry");
      } finally {
        this.checking = null;
      }
    })();
    return this.checking;
  }

  private async pass(): Promise<void> {
    if (this.holders.size === 0) return;
    const holders = [...this.holders];
    const current = await this.auth.recheck(holders.map((holder) => holder.actor));
    for (const holder of holders) {
      const now = current.get(holder.actor);
      if (!now) holder.revoke();
      else if (now.role !== holder.actor.role || !sameScopes(now.scopes, holder.actor.scopes)) {
        holder.updateActor(now);
      }
    }
  }
}

function sameScopes(a: readonly Scope[], b: readonly Scope[]): boolean {
  return a.length === b.length && a.every((scope) => b.includes(scope));
}

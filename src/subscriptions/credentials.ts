import { sql } from "drizzle-orm";
import type { Logger } from "pino";
import type { Actor } from "../auth/actor.ts";
import type { Authenticator } from "../auth/authenticate.ts";
import { effectiveScopes, type Role, type Scope } from "../auth/roles.ts";
import { type Db, queryRows } from "../db/client.ts";

/**
 * How often open subscriptions re-check their credential. It matches the authenticator's cache:
 * a revocation through another process ends streams here within this window; a local one at once.
 */
export const CREDENTIAL_RECHECK_MS = 5_000;

/** The second look after a local invalidation. */
const INVALIDATION_RECHECK_MS = 250;

/** A long-lived holder of a credential: told when it changes role or stops being valid. */
export interface CredentialHolder {
  readonly actor: Actor;
  /** The member's role changed: trim with the new role from now on. */
  updateActor(actor: Actor): void;
  /** The key was revoked or expired, or the member removed. */
  revoke(): void;
}

/**
 * Re-validates the credentials of every open subscription with one query per pass (not one per
 * subscription): periodically, and right after any local `Authenticator.invalidate()` (key
 * revoked, member removed, role changed).
 */
export class CredentialWatch {
  private readonly holders = new Set<CredentialHolder>();
  private timer: NodeJS.Timeout | null = null;
  private checking: Promise<void> | null = null;
  private again = false;
  private readonly stopListening: () => void;

  constructor(
    private readonly db: Db,
    auth: Authenticator,
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
    return () => {
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
        this.logger.warn({ err: error }, "subscription credential check failed; will retry");
      } finally {
        this.checking = null;
      }
    })();
    return this.checking;
  }

  private async pass(): Promise<void> {
    if (this.holders.size === 0) return;
    const holders = [...this.holders];
    const keyIds = new Set<string>();
    const memberIds = new Set<string>();
    for (const { actor } of holders) {
      if (actor.credential.kind === "api_key" && actor.credential.id) keyIds.add(actor.credential.id);
      memberIds.add(actor.memberId);
    }
    const [keys, members] = await Promise.all([
      keyIds.size
        ? queryRows<{ id: string; scopes: Scope[] | string }>(
            this.db,
            sql`select id, scopes from api_keys
                where id = any(${sql.param([...keyIds])}::text[]) and revoked_at is null
                  and (expires_at is null or expires_at > now())`,
          )
        : [],
      queryRows<{ id: string; role: Role }>(
        this.db,
        sql`select id, role from members where id = any(${sql.param([...memberIds])}::text[]) and removed_at is null`,
      ),
    ]);
    const scopesByKey = new Map(keys.map((k) => [k.id, parseScopes(k.scopes)]));
    const roleByMember = new Map(members.map((m) => [m.id, m.role]));
    for (const holder of holders) {
      const { actor } = holder;
      const role = roleByMember.get(actor.memberId);
      const isKey = actor.credential.kind === "api_key";
      const granted = isKey ? scopesByKey.get(actor.credential.id ?? "") : actor.scopes;
      if (!role || !granted) {
        holder.revoke();
      } else if (role !== actor.role) {
        holder.updateActor({
          ...actor,
          role,
          scopes: effectiveScopes(role, granted),
          member: { ...actor.member, role },
        });
      }
    }
  }
}

function parseScopes(value: Scope[] | string): Scope[] {
  // postgres.js returns arrays of custom enums as their text form, `{READ,WRITE}`.
  if (Array.isArray(value)) return value;
  return value
    .replace(/^\{|\}$/g, "")
    .split(",")
    .filter(Boolean) as Scope[];
}

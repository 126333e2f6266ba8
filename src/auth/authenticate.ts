import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/client.ts";
import { fail } from "../schema/errors.ts";
import type { Actor } from "./actor.ts";
import type { PresentedCredential } from "./credentials.ts";
import { effectiveScopes, type Role, type Scope } from "./roles.ts";
import { hashToken } from "./tokens.ts";

/**
 * How long a verified API key is trusted without asking the database again. Local revocations and
 * member removals clear the cache at once; another process sees them within this window.
 */
const CACHE_TTL_MS = 5_000;
/** `lastUsedAt` is written at most this often per key, so hot keys don't write on every request. */
const LAST_USED_RESOLUTION_MS = 60_000;

interface KeyRow {
  key_id: string;
  workspace_id: string;
  member_id: string;
  role: Role;
  email: string;
  name: string | null;
  member_created_at: Date | string;
  scopes: Scope[] | string;
  expires_at: Date | string | null;
  last_used_at: Date | string | null;
}

function parseScopes(value: Scope[] | string): Scope[] {
  // postgres.js returns arrays of custom enums as their text form, `{READ,WRITE}`.
  if (Array.isArray(value)) return value;
  return value
    .replace(/^\{|\}$/g, "")
    .split(",")
    .filter(Boolean) as Scope[];
}

export class Authenticator {
  private readonly cache = new Map<string, { actor: Actor; expiresAt: number; until: number }>();
  private readonly invalidationListeners = new Set<() => void>();

  constructor(
    private readonly db: Db,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  /** Resolves a presented credential to an actor, or throws 401 `UNAUTHENTICATED`. */
  async authenticate(credential: PresentedCredential): Promise<Actor> {
    if (credential.kind === "password") {
      throw fail.unauthenticated(
        "Email and password sign-in is not enabled on this server; use an API key.",
        true,
      );
    }
    return this.authenticateToken(credential.token);
  }

  async authenticateToken(token: string): Promise<Actor> {
    const hash = hashToken(token);
    const now = Date.now();
    const cached = this.cache.get(hash);
    if (cached && cached.until > now && cached.expiresAt > now) return cached.actor;

    const [row] = await queryRows<KeyRow>(
      this.db,
      sql`select k.id as key_id, k.workspace_id, k.member_id, m.role, m.email, m.name, m.created_at as member_created_at,
                 k.scopes, k.expires_at, k.last_used_at
          from api_keys k join members m on m.id = k.member_id
          where k.token_hash = ${hash} and k.revoked_at is null and m.removed_at is null`,
    );
    const expiresAt = row?.expires_at ? new Date(row.expires_at).getTime() : Number.POSITIVE_INFINITY;
    if (!row || expiresAt <= now) {
      this.cache.delete(hash);
      throw fail.unauthenticated("The credential is invalid, expired or revoked.", true);
    }
    const actor: Actor = {
      workspaceId: row.workspace_id,
      memberId: row.member_id,
      role: row.role,
      scopes: effectiveScopes(row.role, parseScopes(row.scopes)),
      credential: { kind: "api_key", id: row.key_id },
      member: {
        id: row.member_id,
        workspaceId: row.workspace_id,
        email: row.email,
        name: row.name,
        role: row.role,
        passwordHash: null,
        createdAt: new Date(row.member_created_at),
        removedAt: null,
      },
    };
    this.cache.set(hash, { actor, expiresAt, until: now + CACHE_TTL_MS });
    const lastUsed = row.last_used_at ? new Date(row.last_used_at).getTime() : 0;
    if (now - lastUsed > LAST_USED_RESOLUTION_MS) {
      this.db
        .execute(sql`update api_keys set last_used_at = now() where id = ${row.key_id}`)
        .catch(this.onError);
    }
    return actor;
  }

  /** Forget every cached verification (after revoking keys, removing members, changing roles). */
  invalidate(): void {
    this.cache.clear();
    for (const listener of this.invalidationListeners) listener();
  }

  /** Called after every `invalidate()`: long-lived streams re-check their credential at once. */
  onInvalidate(listener: () => void): () => void {
    this.invalidationListeners.add(listener);
    return () => this.invalidationListeners.delete(listener);
  }
}

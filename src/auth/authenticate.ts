import { createHash, randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import { type Db, fail, queryRows } from "../kernel/index.ts";
import { type Actor, actorFor, type JoinedMemberColumns, joinedMember } from "./actor.ts";
import type { PresentedCredential } from "./credentials.ts";
import { checkEmailPassword, passwordCacheKey } from "./passwords.ts";
import { roleScopes, type Scope } from "./roles.ts";
import { hashToken } from "./tokens.ts";

/**
 * How long a verified API key is trusted without asking the database again. Local revocations and
 * member removals clear the cache at once; another process sees them within this window.
 */
const CACHE_TTL_MS = 5_000;
/** `lastUsedAt` is written at most this often per key, so hot keys don't write on every request. */
const LAST_USED_RESOLUTION_MS = 60_000;

interface KeyRow extends JoinedMemberColumns {
  key_id: string;
  scopes: Scope[] | string;
  expires_at: Date | string | null;
  last_used_at: Date | string | null;
}

interface MemberCheckRow extends JoinedMemberColumns {
  password_hash: string | null;
}

function parseScopes(value: Scope[] | string): Scope[] {
  // postgres.js returns arrays of custom enums as their text form, `{READ,WRITE}`.
  if (Array.isArray(value)) return value;
  return value
    .replace(/^\{|\}$/g, "")
    .split(",")
    .filter(Boolean) as Scope[];
}

/**
 * Another domain's bearer tokens (OAuth access tokens), by the token's hash: an actor and when it
 * expires, or null. Also how `recheck` re-validates such a token, so it must read current state.
 */
export type TokenVerifier = (hash: string) => Promise<{ actor: Actor; expiresAt: number } | null>;

/** What a password credential's re-check compares: changes whenever the password does. */
function passwordDigest(passwordHash: string | null): string {
  return createHash("sha256")
    .update(passwordHash ?? "")
    .digest("base64url");
}

/** A verified credential's actor, until its credential expires and until the cache window ends. */
interface CacheEntry {
  actor: Actor;
  expiresAt: number;
  until: number;
}

export class Authenticator {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly invalidationListeners = new Set<() => void>();
  /** Tried in order after API keys; filled by other domains (see `src/server/services.ts`). */
  readonly tokenVerifiers: TokenVerifier[] = [];
  /** Keys the password cache, so it never holds a password or a reusable hash of one. */
  private readonly passwordCacheSecret = randomBytes(32);
  private readonly verifying = new Map<string, Promise<Actor>>();
  /** Bumped by `invalidate`, so a verification that started before it is not cached after it. */
  private generation = 0;

  constructor(
    private readonly db: Db,
    private readonly onError: (error: unknown) => void = () => {},
    /** How long a verified email/password is trusted without argon2 again; 0 turns the cache off. */
    private readonly passwordCacheMs = CACHE_TTL_MS,
  ) {}

  /**
   * Resolves a presented credential to an actor, or throws 401 `UNAUTHENTICATED`. A token verified
   * within the cache window comes back without a promise (the per-request hot path).
   */
  authenticate(credential: PresentedCredential): Actor | Promise<Actor> {
    if (credential.kind === "password")
      return this.authenticatePassword(credential.email, credential.password);
    return this.authenticateToken(credential.token);
  }

  /**
   * Basic email/password: argon2id costs ~20 ms of CPU, so a success is cached like a key, and
   * concurrent checks of one pair share a single verification (no stampede when the entry expires).
   */
  async authenticatePassword(email: string, password: string): Promise<Actor> {
    const key = `pw:${passwordCacheKey(this.passwordCacheSecret, email, password)}`;
    const now = Date.now();
    const cached = this.cache.get(key);
    if (cached && cached.until > now) return cached.actor;
    // With the cache off (benchmarks, tests) every request pays for its own verification.
    if (this.passwordCacheMs === 0) return this.verifyPassword(key, email, password);
    return this.shared(key, () => this.verifyPassword(key, email, password));
  }

  private async verifyPassword(key: string, email: string, password: string): Promise<Actor> {
    const generation = this.generation;
    const result = await checkEmailPassword(this.db, email, password);
    if (!result.ok) {
      throw fail.unauthenticated(
        result.reason === "ambiguous"
          ? "This email and password match members of several workspaces; use an API key instead."
          : "The email or password is wrong.",
        true,
      );
    }
    const member = result.member;
    const actor = actorFor(member, roleScopes[member.role], {
      kind: "password",
      id: null,
      ref: passwordDigest(member.passwordHash),
      expiresAt: null,
    });
    if (this.passwordCacheMs > 0) {
      const until = Date.now() + this.passwordCacheMs;
      this.remember(generation, key, { actor, expiresAt: Number.POSITIVE_INFINITY, until });
    }
    return actor;
  }

  /** A token's actor: from the cache without a promise when verified within its window. */
  authenticateToken(token: string): Actor | Promise<Actor> {
    const hash = hashToken(token);
    const now = Date.now();
    const cached = this.cache.get(hash);
    if (cached && cached.until > now && cached.expiresAt > now) return cached.actor;
    // Requests that arrive together (every connection of a client when its entry expires) share
    // one verification instead of one lookup each.
    return this.shared(hash, () => this.verifyToken(hash, now));
  }

  /**
   * Caches a verification that began at `generation`: an answer read before an `invalidate()` (a
   * revocation) is returned to its requests but not kept after it.
   */
  private remember(generation: number, key: string, entry: CacheEntry): void {
    if (generation === this.generation) this.cache.set(key, entry);
  }

  /** One verification per key at a time; `invalidate()` forgets those in flight. */
  private shared(key: string, verify: () => Promise<Actor>): Promise<Actor> {
    const inFlight = this.verifying.get(key);
    if (inFlight) return inFlight;
    const pending = verify().finally(() => {
      if (this.verifying.get(key) === pending) this.verifying.delete(key);
    });
    this.verifying.set(key, pending);
    return pending;
  }

  private async verifyToken(hash: string, now: number): Promise<Actor> {
    const generation = this.generation;
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
      if (!row) {
        const verified = await this.verifyOtherToken(hash);
        if (verified) {
          this.remember(generation, hash, { ...verified, until: now + CACHE_TTL_MS });
          return verified.actor;
        }
      }
      throw fail.unauthenticated("The credential is invalid, expired or revoked.", true);
    }
    const actor = actorFor(joinedMember(row), parseScopes(row.scopes), {
      kind: "api_key",
      id: row.key_id,
      ref: row.key_id,
      expiresAt: row.expires_at ? expiresAt : null,
    });
    this.remember(generation, hash, { actor, expiresAt, until: now + CACHE_TTL_MS });
    const lastUsed = row.last_used_at ? new Date(row.last_used_at).getTime() : 0;
    if (now - lastUsed > LAST_USED_RESOLUTION_MS) {
      this.db
        .execute(sql`update api_keys set last_used_at = now() where id = ${row.key_id}`)
        .catch(this.onError);
    }
    return actor;
  }

  /**
   * The current state of credentials verified earlier, for what stays open (WebSocket connections,
   * subscription streams): each actor as it is now — its member's current role, its key's current
   * scopes — or null when its credential no longer works (revoked, expired, member removed,
   * password changed, OAuth token revoked or its client deleted). One query per kind of credential,
   * however many actors; never from the cache.
   */
  async recheck(actors: readonly Actor[]): Promise<Map<Actor, Actor | null>> {
    const keyIds = new Set<string>();
    const memberIds = new Set<string>();
    const oauthRefs = new Set<string>();
    for (const { credential, memberId } of actors) {
      if (credential.kind === "api_key") keyIds.add(credential.ref);
      else if (credential.kind === "oauth") oauthRefs.add(credential.ref);
      else memberIds.add(memberId);
    }
    const [keys, currentMembers, tokens] = await Promise.all([
      keyIds.size
        ? queryRows<KeyRow>(
            this.db,
            sql`select k.id as key_id, k.workspace_id, k.member_id, m.role, m.email, m.name, m.created_at as member_created_at,
                       k.scopes, k.expires_at, k.last_used_at
                from api_keys k join members m on m.id = k.member_id
                where k.id = any(${sql.param([...keyIds])}::text[]) and k.revoked_at is null and m.removed_at is null`,
          )
        : [],
      memberIds.size
        ? queryRows<MemberCheckRow>(
            this.db,
            sql`select id as member_id, workspace_id, email, name, role, created_at as member_created_at, password_hash
                from members where id = any(${sql.param([...memberIds])}::text[]) and removed_at is null`,
          )
        : [],
      Promise.all([...oauthRefs].map(async (hash) => [hash, await this.verifyOtherToken(hash)] as const)),
    ]);
    const keyById = new Map(keys.map((row) => [row.key_id, row]));
    const memberById = new Map(currentMembers.map((row) => [row.member_id, row]));
    const tokenByHash = new Map(tokens);
    const now = Date.now();
    const result = new Map<Actor, Actor | null>();
    for (const actor of actors) {
      const { credential } = actor;
      let current: Actor | null = null;
      if (credential.kind === "api_key") {
        const row = keyById.get(credential.ref);
        if (row) current = actorFor(joinedMember(row), parseScopes(row.scopes), credential);
      } else if (credential.kind === "oauth") {
        current = tokenByHash.get(credential.ref)?.actor ?? null;
      } else {
        const row = memberById.get(actor.memberId);
        const samePassword =
          credential.kind !== "password" || passwordDigest(row?.password_hash ?? null) === credential.ref;
        if (row && samePassword) current = actorFor(joinedMember(row), roleScopes[row.role], credential);
      }
      const expired = credential.expiresAt !== null && credential.expiresAt <= now;
      result.set(actor, expired ? null : current);
    }
    return result;
  }

  /** A bearer token that is not an API key, through the other domains' verifiers. */
  private async verifyOtherToken(hash: string): Promise<{ actor: Actor; expiresAt: number } | null> {
    for (const verify of this.tokenVerifiers) {
      const verified = await verify(hash);
      if (verified && verified.expiresAt > Date.now()) return verified;
    }
    return null;
  }

  /** Forget every cached verification (after revoking keys, removing members, changing roles). */
  invalidate(): void {
    this.generation++;
    this.verifying.clear();
    this.cache.clear();
    for (const listener of this.invalidationListeners) listener();
  }

  /** Called after every `invalidate()`: long-lived streams re-check their credential at once. */
  onInvalidate(listener: () => void): () => void {
    this.invalidationListeners.add(listener);
    return () => this.invalidationListeners.delete(listener);
  }
}

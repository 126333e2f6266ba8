import { and, desc, eq, sql } from "drizzle-orm";
import type { Db } from "../kernel/index.ts";
import { fail, newId } from "../kernel/index.ts";
import { type Actor, requireAdmin } from "./actor.ts";
import type { Authenticator } from "./authenticate.ts";
import { findActiveMember } from "./memberLookup.ts";
import { isAdminRole, outranks, roleScopes, type Scope } from "./roles.ts";
import { type ApiKeyRow, apiKeys, type MemberRow } from "./tables.ts";
import { displayPrefix, generateApiKeyToken, hashToken } from "./tokens.ts";

export interface CreateApiKeyInput {
  name: string;
  scopes?: Scope[] | null;
  expiresAt?: Date | null;
  memberId?: string | null;
}

/** API keys: anyone manages their own; owners and admins manage everyone's. */
export class ApiKeyService {
  constructor(
    private readonly db: Db,
    private readonly auth: Authenticator,
  ) {}

  async list(actor: Actor): Promise<ApiKeyRow[]> {
    const mine = eq(apiKeys.memberId, actor.memberId);
    const all = isAdminRole(actor.role) && actor.scopes.includes("ADMIN");
    return this.db
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.workspaceId, actor.workspaceId), all ? undefined : mine))
      .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id));
  }

  /** Creates a key and returns its token, which is never stored and never shown again. */
  async create(actor: Actor, input: CreateApiKeyInput): Promise<{ apiKey: ApiKeyRow; token: string }> {
    const memberId = input.memberId ?? actor.memberId;
    if (memberId !== actor.memberId) requireAdmin(actor);
    const owner = await findActiveMember(this.db, memberId, actor.workspaceId);
    // Another workspace's member id is indistinguishable from one that never existed.
    if (!owner)
      throw fail.badInput("memberId", `No member with id ${JSON.stringify(memberId)} in this workspace.`);
    // A key acts with its member's role: minting one for a higher role would be a promotion.
    if (outranks(owner.role, actor.role)) {
      throw fail.forbidden(
        `You may not issue a key for a member whose role (${owner.role}) is above yours (${actor.role}).`,
      );
    }
    return issueApiKey(this.db, owner, input, actor.scopes);
  }

  async revoke(actor: Actor, id: string): Promise<ApiKeyRow> {
    const [key] = await this.db
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.id, id), eq(apiKeys.workspaceId, actor.workspaceId)));
    const mayManage =
      key && (key.memberId === actor.memberId || (isAdminRole(actor.role) && actor.scopes.includes("ADMIN")));
    if (!key || !mayManage) throw fail.notFound(`No API key with id ${JSON.stringify(id)}.`);
    const [revoked] = await this.db
      .update(apiKeys)
      .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, now())` })
      .where(eq(apiKeys.id, id))
      .returning();
    this.auth.invalidate();
    if (!revoked) throw new Error("update returned no row");
    return revoked;
  }
}

/**
 * Issues a key for `member`, under the one rule for every issuer (the API, the CLI): its scopes are
 * those asked for, or by default all its member's role allows; asking for more than the role or the
 * issuer's own scopes (`grantor`) allow is refused, never quietly narrowed.
 */
export async function issueApiKey(
  db: Db,
  member: Pick<MemberRow, "id" | "workspaceId" | "role">,
  input: Omit<CreateApiKeyInput, "memberId">,
  grantor: readonly Scope[],
): Promise<{ apiKey: ApiKeyRow; token: string }> {
  const name = input.name.trim();
  if (!name || name.length > 200) throw fail.badInput("name", "A key needs a name of 1 to 200 characters.");
  if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) {
    throw fail.badInput("expiresAt", "expiresAt must be in the future.");
  }
  const ceiling = roleScopes[member.role].filter((scope) => grantor.includes(scope));
  const scopes = input.scopes ? [...new Set(input.scopes)] : ceiling;
  if (scopes.length === 0) throw fail.badInput("scopes", "A key needs at least one scope.");
  const tooWide = scopes.filter((scope) => !ceiling.includes(scope));
  if (tooWide.length > 0) {
    throw fail.forbidden(
      `Scopes ${tooWide.join(", ")} exceed what this key's member role and your own credential allow.`,
    );
  }
  const token = generateApiKeyToken();
  const [apiKey] = await db
    .insert(apiKeys)
    .values({
      id: newId("apiKey"),
      workspaceId: member.workspaceId,
      memberId: member.id,
      name,
      prefix: displayPrefix(token),
      tokenHash: hashToken(token),
      scopes,
      expiresAt: input.expiresAt ?? null,
    })
    .returning();
  if (!apiKey) throw new Error("insert returned no row");
  return { apiKey, token };
}

/** Whether `token` is (or was: revoked and expired keys count) an API key of any workspace. */
export async function apiKeyExists(db: Db, token: string): Promise<boolean> {
  const [row] = await db
    .select({ id: apiKeys.id })
    .from(apiKeys)
    .where(eq(apiKeys.tokenHash, hashToken(token)))
    .limit(1);
  return row !== undefined;
}

import { fail } from "../kernel/index.ts";
import { effectiveScopes, isAdminRole, type Role, type Scope } from "./roles.ts";
import type { MemberRow } from "./tables.ts";

/** `member`: not a presented credential but the server acting for a member (a webhook's creator). */
export type CredentialKind = "api_key" | "password" | "oauth" | "member";

/** The credential an actor was verified with, and what it takes to check it again later. */
export interface CredentialRef {
  kind: CredentialKind;
  /** The API key's or OAuth client's id (a change's actor); null for a password or a member. */
  id: string | null;
  /**
   * What a later re-check looks up (see `Authenticator.recheck`): the API key's id, the OAuth
   * token's hash, a digest of the member's password hash (so a changed password ends it), or the
   * member's id.
   */
  ref: string;
  /** When it stops working by itself (ms since the epoch); null: it does not expire. */
  expiresAt: number | null;
}

/** The HTTP request an actor acts in: echoed on the changes it makes (`Change.request`). */
export interface RequestMeta {
  requestId: string | null;
  idempotencyKey: string | null;
}

/** Who is asking: every credential resolves to one workspace and one member of it. */
export interface Actor {
  workspaceId: string;
  memberId: string;
  role: Role;
  /** Effective scopes: the credential's scopes narrowed by the member's role. */
  scopes: Scope[];
  credential: CredentialRef;
  /** The member as read when the credential was verified (primes the request's member loader). */
  member: MemberRow;
  /** The request's `X-Plugboard-Origin` header: stored on every change it writes. */
  origin?: string | null;
  /** Set per HTTP request (a copy of the cached actor), so the write path can record it. */
  request?: RequestMeta;
}

export function requireScope(actor: Actor, scope: Scope): void {
  if (!actor.scopes.includes(scope)) {
    throw fail.forbidden(
      `This credential lacks the ${scope} scope needed here; use a key or token granting it.`,
    );
  }
}

/** Managing the workspace (members, other members' keys, types, access) needs OWNER/ADMIN and ADMIN scope. */
export function requireAdmin(actor: Actor): void {
  if (!isAdminRole(actor.role)) throw fail.forbidden("Only workspace owners and admins may do this.");
  requireScope(actor, "ADMIN");
}

/** The actor of a member acting with `granted` scopes (narrowed by the member's role). */
export function actorFor(member: MemberRow, granted: readonly Scope[], credential: CredentialRef): Actor {
  return {
    workspaceId: member.workspaceId,
    memberId: member.id,
    role: member.role,
    scopes: effectiveScopes(member.role, granted),
    credential,
    member,
  };
}

/** The member columns a credential lookup selects, by their SQL aliases. */
export interface JoinedMemberColumns {
  member_id: string;
  workspace_id: string;
  email: string;
  name: string | null;
  role: Role;
  member_created_at: Date | string;
}

/** The member columns a credential lookup joins in, as a member row (current members only). */
export function joinedMember(row: JoinedMemberColumns): MemberRow {
  return {
    id: row.member_id,
    workspaceId: row.workspace_id,
    email: row.email,
    name: row.name,
    role: row.role,
    passwordHash: null,
    createdAt: new Date(row.member_created_at),
    removedAt: null,
  };
}

import { sql } from "drizzle-orm";
import type { Role, TokenVerifier } from "../auth/index.ts";
import { actorFor, joinedMember } from "../auth/index.ts";
import { type Db, queryRows } from "../kernel/index.ts";
import { apiScopesOf } from "./scopes.ts";

interface TokenRow {
  model: string;
  payload: { exp?: number; scope?: string } | string;
  client_row_id: string;
  member_id: string;
  workspace_id: string;
  role: Role;
  email: string;
  name: string | null;
  member_created_at: Date | string;
}

/**
 * Accepts OAuth access tokens as Bearer credentials. A user's token acts as its member; a
 * client-credentials token as the client's service member. The joins make a token die with its
 * client (deleted) or its member (removed) without waiting for its expiry.
 */
export function oauthTokenVerifier(db: Db): TokenVerifier {
  return async (hash) => {
    const [row] = await queryRows<TokenRow>(
      db,
      sql`select a.model, a.payload, c.id as client_row_id, m.id as member_id, m.workspace_id, m.role,
                 m.email, m.name, m.created_at as member_created_at
          from oauth_artifacts a
          join oauth_clients c on c.client_id = a.client_id
          join members m on m.id = case when a.model = 'ClientCredentials' then c.service_member_id else a.account_id end
          where a.model in ('AccessToken', 'ClientCredentials') and a.id = ${hash}
            and a.expires_at > now() and m.removed_at is null and m.workspace_id = c.workspace_id`,
    );
    if (!row) return null;
    const payload = typeof row.payload === "string" ? JSON.parse(row.payload) : row.payload;
    const expiresAt = (payload.exp ?? 0) * 1000;
    const actor = actorFor(joinedMember(row), apiScopesOf(payload.scope), {
      kind: "oauth",
      id: row.client_row_id,
      ref: hash,
      expiresAt,
    });
    return { actor, expiresAt };
  };
}

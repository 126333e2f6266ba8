import {
  boolean,
  index,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { members, workspaces } from "../auth/tables.ts";

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, precision: 3 });

/** OAuth clients, registered by workspace admins through GraphQL. */
export const oauthClients = pgTable(
  "oauth_clients",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    /** The public `client_id` of the OAuth protocol (the node id stays internal to GraphQL). */
    clientId: text("client_id").notNull(),
    name: text("name").notNull(),
    redirectUris: text("redirect_uris").array().notNull(),
    confidential: boolean("confidential").notNull(),
    /** SHA-256 (hex) of the secret; secrets are 256-bit random, so a fast hash is enough. */
    secretHash: text("secret_hash"),
    /** The member a client-credentials token acts as (confidential clients only). */
    serviceMemberId: text("service_member_id").references(() => members.id),
    createdById: text("created_by_id").references(() => members.id),
    createdAt: timestamptz("created_at").notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("oauth_clients_client_id_key").on(t.clientId),
    index("oauth_clients_workspace_idx").on(t.workspaceId),
  ],
);

/**
 * oidc-provider's artifacts (tokens, codes, grants, sessions, interactions), one row each. `id` is
 * the SHA-256 of the artifact's id, so a copy of this table holds no usable token.
 */
export const oauthArtifacts = pgTable(
  "oauth_artifacts",
  {
    model: text("model").notNull(),
    id: text("id").notNull(),
    payload: jsonb("payload").notNull(),
    grantId: text("grant_id"),
    uid: text("uid"),
    userCode: text("user_code"),
    /** The member (for tokens of a user) and the client, so removals can delete their rows. */
    accountId: text("account_id"),
    clientId: text("client_id"),
    expiresAt: timestamptz("expires_at"),
    consumedAt: timestamptz("consumed_at"),
  },
  (t) => [
    primaryKey({ columns: [t.model, t.id] }),
    index("oauth_artifacts_grant_idx").on(t.grantId),
    index("oauth_artifacts_uid_idx").on(t.uid),
    index("oauth_artifacts_account_idx").on(t.accountId),
    index("oauth_artifacts_client_idx").on(t.clientId),
    index("oauth_artifacts_expires_idx").on(t.expiresAt),
  ],
);

/**
 * The authorization server's keys: one row, created once at first start, shared by every process
 * (tokens signed or cookies set by one process verify in all of them).
 */
export const oauthKeys = pgTable("oauth_keys", {
  id: text("id").primaryKey(),
  /** Private JWKS for signing ID tokens. */
  jwks: jsonb("jwks").notNull(),
  /** Keys for oidc-provider's signed cookies (newest first). */
  cookieKeys: text("cookie_keys").array().notNull(),
  createdAt: timestamptz("created_at").notNull().defaultNow(),
});

export type OAuthClientRow = typeof oauthClients.$inferSelect;

import { sql } from "drizzle-orm";
import { index, pgEnum, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

export const roleEnum = pgEnum("role", ["OWNER", "ADMIN", "MEMBER", "VIEWER"]);
export const scopeEnum = pgEnum("scope", ["READ", "WRITE", "ADMIN"]);

const createdAt = () => timestamp("created_at", { withTimezone: true, precision: 3 }).notNull().defaultNow();

export const workspaces = pgTable("workspaces", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  createdAt: createdAt(),
});

export const members = pgTable(
  "members",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    email: text("email").notNull(),
    name: text("name"),
    role: roleEnum("role").notNull(),
    passwordHash: text("password_hash"),
    createdAt: createdAt(),
    /** Removed members keep their row so `createdBy` and change actors still resolve. */
    removedAt: timestamp("removed_at", { withTimezone: true, precision: 3 }),
  },
  (t) => [
    uniqueIndex("members_workspace_email_key")
      .on(t.workspaceId, sql`lower(${t.email})`)
      .where(sql`${t.removedAt} is null`),
    index("members_email_idx").on(sql`lower(${t.email})`),
  ],
);

export const apiKeys = pgTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    memberId: text("member_id")
      .notNull()
      .references(() => members.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** The first characters of the token, to recognise a key in lists; not secret. */
    prefix: text("prefix").notNull(),
    /** SHA-256 of the whole token (hex). Tokens are 256-bit random, so a fast hash is enough. */
    tokenHash: text("token_hash").notNull(),
    scopes: scopeEnum("scopes").array().notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true, precision: 3 }),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true, precision: 3 }),
    revokedAt: timestamp("revoked_at", { withTimezone: true, precision: 3 }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("api_keys_token_hash_key").on(t.tokenHash),
    index("api_keys_member_idx").on(t.memberId),
  ],
);

export type WorkspaceRow = typeof workspaces.$inferSelect;
export type MemberRow = typeof members.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;

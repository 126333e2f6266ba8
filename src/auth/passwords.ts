import { createHmac, randomBytes } from "node:crypto";
import { hash, verify } from "@node-rs/argon2";
import { and, eq, isNotNull, isNull, sql } from "drizzle-orm";
import type { Db } from "../kernel/index.ts";
import { fail } from "../kernel/index.ts";
import type { Actor } from "./actor.ts";
import { roleScopes } from "./roles.ts";
import { type MemberRow, members } from "./tables.ts";

/** argon2id with @node-rs/argon2's defaults (19 MiB, 2 passes: OWASP's recommendation). */
export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

// Unknown emails are verified against this hash, so they cost what a wrong password costs.
let dummyHash: Promise<string> | undefined;
function dummy(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(16).toString("hex"));
  return dummyHash;
}

export function validateNewPassword(password: string): void {
  if (password.length < 8 || password.length > 1024) {
    throw fail.badInput("password", "A password needs 8 to 1024 characters.");
  }
}

export type PasswordCheck = { ok: true; member: MemberRow } | { ok: false; reason: "invalid" | "ambiguous" };

/**
 * Finds the member an email and password sign in as. An email may belong to members of several
 * workspaces: the password picks the one whose password it is; when it matches more than one, the
 * sign-in is refused as ambiguous (use an API key, or different passwords per workspace).
 */
export async function checkEmailPassword(db: Db, email: string, password: string): Promise<PasswordCheck> {
  const candidates = await db
    .select()
    .from(members)
    .where(
      and(
        eq(sql`lower(${members.email})`, email.trim().toLowerCase()),
        isNull(members.removedAt),
        isNotNull(members.passwordHash),
      ),
    )
    .limit(10);
  if (candidates.length === 0) {
    await verify(await dummy(), password).catch(() => false);
    return { ok: false, reason: "invalid" };
  }
  const matches: MemberRow[] = [];
  for (const member of candidates) {
    if (member.passwordHash && (await verify(member.passwordHash, password).catch(() => false))) {
      matches.push(member);
    }
  }
  const [only, ...others] = matches;
  if (!only) return { ok: false, reason: "invalid" };
  if (others.length > 0) return { ok: false, reason: "ambiguous" };
  return { ok: true, member: only };
}

/**
 * Sets the actor's own password. It needs a credential with every scope of the member's role (a
 * narrowed key or token must not mint a wider credential for itself), and, to change an existing
 * password, the current one.
 */
export async function setOwnPassword(
  db: Db,
  // Only its cache is needed (authenticate.ts imports this module: no import back).
  auth: { invalidate(): void },
  actor: Actor,
  input: { password: string; currentPassword?: string | null },
): Promise<MemberRow> {
  if (!roleScopes[actor.role].every((scope) => actor.scopes.includes(scope))) {
    throw fail.forbidden(
      "Setting a password needs a credential with every scope of your role; use a full API key.",
    );
  }
  validateNewPassword(input.password);
  const [member] = await db.select().from(members).where(eq(members.id, actor.memberId));
  if (!member || member.removedAt) throw fail.unauthenticated("This credential's member was removed.", true);
  if (member.passwordHash) {
    const current = input.currentPassword ?? "";
    if (!(await verify(member.passwordHash, current).catch(() => false))) {
      throw fail.badInput("currentPassword", "The current password is wrong.");
    }
  }
  const [updated] = await db
    .update(members)
    .set({ passwordHash: await hashPassword(input.password) })
    .where(eq(members.id, member.id))
    .returning();
  if (!updated) throw new Error("update returned no row");
  // A changed password must not keep working from the verification cache.
  auth.invalidate();
  return updated;
}

/** A cache key for a verified email/password pair that never holds the password itself. */
export function passwordCacheKey(secret: Buffer, email: string, password: string): string {
  return createHmac("sha256", secret)
    .update(email.trim().toLowerCase())
    .update("\0")
    .update(password)
    .digest("hex");
}

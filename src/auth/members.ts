import { and, asc, eq, inArray, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../kernel/index.ts";
import { fail, newId } from "../kernel/index.ts";
import { type Actor, requireAdmin, requireScope } from "./actor.ts";
import type { Authenticator } from "./authenticate.ts";
import type { Role } from "./roles.ts";
import { apiKeys, type MemberRow, members } from "./tables.ts";

const emailSchema = z.email();

export type MemberRemovedHook = (tx: Db, workspaceId: string, memberId: string) => Promise<void>;

/** Members of a workspace and their roles; every function checks access on its first line. */
export class MemberService {
  /** Other domains react to a removal in the same transaction (webhooks are disabled, …). */
  readonly onRemoved: MemberRemovedHook[] = [];

  constructor(
    private readonly db: Db,
    private readonly auth: Authenticator,
  ) {}

  async list(actor: Actor): Promise<MemberRow[]> {
    requireScope(actor, "READ");
    return this.db
      .select()
      .from(members)
      .where(and(eq(members.workspaceId, actor.workspaceId), isNull(members.removedAt)))
      .orderBy(asc(members.createdAt), asc(members.id));
  }

  /** Members by id, current or removed, of the actor's workspace only (for DataLoader). */
  async byIds(workspaceId: string, ids: readonly string[]): Promise<MemberRow[]> {
    if (ids.length === 0) return [];
    return this.db
      .select()
      .from(members)
      .where(and(eq(members.workspaceId, workspaceId), inArray(members.id, [...ids])));
  }

  /** The current member with this id in the actor's workspace, or NOT_FOUND. */
  async get(actor: Actor, memberId: string, field = "memberId"): Promise<MemberRow> {
    const [row] = await this.db
      .select()
      .from(members)
      .where(
        and(eq(members.id, memberId), eq(members.workspaceId, actor.workspaceId), isNull(members.removedAt)),
      );
    if (!row) throw fail.notFound(`No member with id ${JSON.stringify(memberId)} (field ${field}).`);
    return row;
  }

  async create(actor: Actor, input: { email: string; name?: string | null; role: Role }): Promise<MemberRow> {
    requireAdmin(actor);
    const email = input.email.trim();
    if (!emailSchema.safeParse(email).success) {
      throw fail.badInput("email", `${JSON.stringify(input.email)} is not an email address.`);
    }
    if (input.name != null && input.name.length > 200) {
      throw fail.badInput("name", "A name is at most 200 characters.");
    }
    this.assertMayGrant(actor, input.role);
    try {
      const [row] = await this.db
        .insert(members)
        .values({
          id: newId("member"),
          workspaceId: actor.workspaceId,
          email,
          name: input.name ?? null,
          role: input.role,
        })
        .returning();
      if (!row) throw new Error("insert returned no row");
      return row;
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw fail.conflict(`A member with email ${email} already exists in this workspace.`, {
          field: "email",
        });
      }
      throw error;
    }
  }

  async updateRole(actor: Actor, input: { memberId: string; role: Role }): Promise<MemberRow> {
    requireAdmin(actor);
    const updated = await this.db.transaction(async (tx) => {
      const target = await this.lockMember(tx, actor, input.memberId);
      this.assertMayManage(actor, target);
      this.assertMayGrant(actor, input.role);
      if (target.role === "OWNER" && input.role !== "OWNER") await this.assertNotLastOwner(tx, actor);
      const [row] = await tx
        .update(members)
        .set({ role: input.role })
        .where(eq(members.id, target.id))
        .returning();
      if (!row) throw new Error("update returned no row");
      return row;
    });
    // After the commit: a verification between an earlier invalidation and the commit would have
    // cached the old role for the cache's whole window.
    this.auth.invalidate();
    return updated;
  }

  /** Removes a member: their keys stop working at once, their rows stay for history. */
  async remove(actor: Actor, input: { memberId: string }): Promise<string> {
    requireAdmin(actor);
    await this.db.transaction(async (tx) => {
      const target = await this.lockMember(tx, actor, input.memberId);
      this.assertMayManage(actor, target);
      if (target.role === "OWNER") await this.assertNotLastOwner(tx, actor);
      await tx.update(members).set({ removedAt: sql`now()` }).where(eq(members.id, target.id));
      await tx
        .update(apiKeys)
        .set({ revokedAt: sql`now()` })
        .where(and(eq(apiKeys.memberId, target.id), isNull(apiKeys.revokedAt)));
      for (const hook of this.onRemoved) await hook(tx, actor.workspaceId, target.id);
    });
    this.auth.invalidate();
    return input.memberId;
  }

  private async lockMember(tx: Db, actor: Actor, memberId: string): Promise<MemberRow> {
    const [row] = await tx
      .select()
      .from(members)
      .where(
        and(eq(members.id, memberId), eq(members.workspaceId, actor.workspaceId), isNull(members.removedAt)),
      )
      .for("update");
    if (!row) throw fail.notFound(`No member with id ${JSON.stringify(memberId)}.`);
    return row;
  }

  /** Admins manage everyone but owners; only an owner may change or remove an owner. */
  private assertMayManage(actor: Actor, target: MemberRow): void {
    if (target.role === "OWNER" && actor.role !== "OWNER") {
      throw fail.forbidden("Only an owner may change or remove an owner.");
    }
  }

  private assertMayGrant(actor: Actor, role: Role): void {
    if (role === "OWNER" && actor.role !== "OWNER")
      throw fail.forbidden("Only an owner may grant the OWNER role.");
  }

  private async assertNotLastOwner(tx: Db, actor: Actor): Promise<void> {
    // Lock every owner row so two concurrent demotions cannot both pass this check.
    const owners = await tx
      .select({ id: members.id })
      .from(members)
      .where(
        and(eq(members.workspaceId, actor.workspaceId), eq(members.role, "OWNER"), isNull(members.removedAt)),
      )
      .for("update");
    if (owners.length <= 1) {
      throw fail.badInput(
        "memberId",
        "A workspace must keep at least one owner; make another member OWNER first.",
      );
    }
  }
}

export function isUniqueViolation(error: unknown): boolean {
  const code =
    (error as { code?: string; cause?: { code?: string } })?.code ??
    (error as { cause?: { code?: string } })?.cause?.code;
  return code === "23505";
}

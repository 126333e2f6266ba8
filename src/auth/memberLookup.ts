import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import type { Db } from "../kernel/index.ts";
import { newId } from "../kernel/index.ts";
import type { Role } from "./roles.ts";
import { type MemberRow, members, workspaces } from "./tables.ts";

/**
 * What other domains may ask about members, without reading auth's tables themselves: a member's
 * validity (not removed, in the workspace) is decided here only.
 */

/** The member with this id if it was not removed (and, given `workspaceId`, belongs to it). */
export async function findActiveMember(
  db: Db,
  memberId: string,
  workspaceId?: string,
): Promise<MemberRow | undefined> {
  const [row] = await db
    .select()
    .from(members)
    .where(
      and(
        eq(members.id, memberId),
        isNull(members.removedAt),
        workspaceId === undefined ? undefined : eq(members.workspaceId, workspaceId),
      ),
    );
  return row;
}

/** A member's role, removed or not (what an OAuth client's service member may be granted). */
export async function memberRole(db: Db, memberId: string): Promise<Role | undefined> {
  const [row] = await db.select({ role: members.role }).from(members).where(eq(members.id, memberId));
  return row?.role;
}

/** Of `ids`, those of the workspace's members that were not removed. */
export async function activeMemberIds(
  db: Db,
  workspaceId: string,
  ids: readonly string[],
): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .select({ id: members.id })
    .from(members)
    .where(
      and(eq(members.workspaceId, workspaceId), isNull(members.removedAt), inArray(members.id, [...ids])),
    );
  return new Set(rows.map((row) => row.id));
}

/** A member (current or removed) with its workspace's name, for screens that show both. */
export async function memberWithWorkspace(
  db: Db,
  memberId: string,
): Promise<{ email: string; role: Role; workspaceName: string } | undefined> {
  const [row] = await db
    .select({ email: members.email, role: members.role, workspaceName: workspaces.name })
    .from(members)
    .innerJoin(workspaces, eq(workspaces.id, members.workspaceId))
    .where(eq(members.id, memberId));
  return row;
}

/**
 * Adds a member that stands for a machine (an OAuth client's client-credentials identity), in the
 * caller's transaction. Its email is made up by the caller and never signs in.
 */
export async function addServiceMember(
  tx: Db,
  input: { workspaceId: string; email: string; name: string; role: Role },
): Promise<string> {
  const id = newId("member");
  await tx.insert(members).values({ id, ...input });
  return id;
}

/** Marks a member removed (kept for history), in the caller's transaction; a second call changes nothing. */
export async function markMemberRemoved(tx: Db, memberId: string): Promise<void> {
  await tx
    .update(members)
    .set({ removedAt: sql`coalesce(${members.removedAt}, now())` })
    .where(eq(members.id, memberId));
}

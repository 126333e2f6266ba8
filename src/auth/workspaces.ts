import { eq, sql } from "drizzle-orm";
import type { Db } from "../kernel/index.ts";
import { newId } from "../kernel/index.ts";
import { roleScopes } from "./roles.ts";
import { apiKeys, members, type WorkspaceRow, workspaces } from "./tables.ts";
import { displayPrefix, generateApiKeyToken, hashToken } from "./tokens.ts";

export interface NewWorkspace {
  name: string;
  ownerEmail: string;
  ownerName?: string | null;
  /** Use this token for the owner's first key instead of generating one. */
  token?: string | undefined;
}

export interface CreatedWorkspace {
  workspaceId: string;
  memberId: string;
  token: string;
}

/**
 * Creates a workspace with its OWNER member and a first API key for them. Each domain that keeps
 * per-workspace defaults (built-in resource types, the change feed, …) seeds them in `seeders`,
 * in order: auth sits below those domains, so server/ wiring passes them in (server/workspaces.ts).
 */
export async function createWorkspace(
  db: Db,
  input: NewWorkspace,
  seeders: readonly WorkspaceSeeder[],
): Promise<CreatedWorkspace> {
  return db.transaction(async (tx) => {
    const workspaceId = newId("workspace");
    const memberId = newId("member");
    const token = input.token ?? generateApiKeyToken();
    await tx.insert(workspaces).values({ id: workspaceId, name: input.name });
    await tx.insert(members).values({
      id: memberId,
      workspaceId,
      email: input.ownerEmail,
      name: input.ownerName ?? null,
      role: "OWNER",
    });
    await tx.insert(apiKeys).values({
      id: newId("apiKey"),
      workspaceId,
      memberId,
      name: "Owner key",
      prefix: displayPrefix(token),
      tokenHash: hashToken(token),
      scopes: [...roleScopes.OWNER],
    });
    for (const seed of seeders) await seed(tx, workspaceId, memberId);
    return { workspaceId, memberId, token };
  });
}

/** Seeds one domain's per-workspace defaults in the workspace's creating transaction. */
export type WorkspaceSeeder = (tx: Db, workspaceId: string, ownerId: string) => Promise<void>;

export async function findWorkspace(db: Db, id: string): Promise<WorkspaceRow | undefined> {
  const [row] = await db.select().from(workspaces).where(eq(workspaces.id, id));
  return row;
}

export async function hasAnyWorkspace(db: Db): Promise<boolean> {
  const rows = await db.select({ one: sql`1` }).from(workspaces).limit(1);
  return rows.length > 0;
}

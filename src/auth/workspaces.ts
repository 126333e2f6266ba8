import { eq, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { newId } from "../db/ids.ts";
import { seedWorkspaceMetadata } from "../metadata/seed.ts";
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
 * per-workspace defaults (built-in resource types, …) seeds them in `workspaceSeeders`.
 */
export async function createWorkspace(db: Db, input: NewWorkspace): Promise<CreatedWorkspace> {
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
    for (const seed of workspaceSeeders) await seed(tx, workspaceId, memberId);
    return { workspaceId, memberId, token };
  });
}

export type WorkspaceSeeder = (tx: Db, workspaceId: string, ownerId: string) => Promise<void>;
/** Per-workspace defaults each domain seeds: the built-in types, the change feed. */
export const workspaceSeeders: WorkspaceSeeder[] = [
  (tx, workspaceId) => seedWorkspaceMetadata(tx, workspaceId),
];

export async function findWorkspace(db: Db, id: string): Promise<WorkspaceRow | undefined> {
  const [row] = await db.select().from(workspaces).where(eq(workspaces.id, id));
  return row;
}

export async function hasAnyWorkspace(db: Db): Promise<boolean> {
  const rows = await db.select({ one: sql`1` }).from(workspaces).limit(1);
  return rows.length > 0;
}

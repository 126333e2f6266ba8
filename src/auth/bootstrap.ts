import { eq } from "drizzle-orm";
import type { Db, Env } from "../kernel/index.ts";
import { hashPassword } from "./passwords.ts";
import { members } from "./tables.ts";
import { createWorkspace, hasAnyWorkspace, type WorkspaceSeeder } from "./workspaces.ts";

export interface BootstrapResult {
  workspaceId: string;
  memberId: string;
  /** Set only when the key was generated here: it must be shown once, now. */
  generatedToken: string | null;
}

/**
 * On an empty database, creates workspace "Default" with its OWNER and API key. Runs inside the
 * migration transaction and lock (see `migrate`), so it happens exactly once across processes.
 */
export async function bootstrap(
  tx: Db,
  env: Env,
  seeders: readonly WorkspaceSeeder[],
): Promise<BootstrapResult | null> {
  if (await hasAnyWorkspace(tx)) return null;
  const created = await createWorkspace(
    tx,
    {
      name: "Default",
      ownerEmail: env.PLUGBOARD_ADMIN_EMAIL ?? "admin@localhost",
      ownerName: "Owner",
      token: env.PLUGBOARD_ADMIN_TOKEN,
    },
    seeders,
  );
  if (env.PLUGBOARD_ADMIN_PASSWORD) {
    const passwordHash = await hashPassword(env.PLUGBOARD_ADMIN_PASSWORD);
    await tx.update(members).set({ passwordHash }).where(eq(members.id, created.memberId));
  }
  return {
    workspaceId: created.workspaceId,
    memberId: created.memberId,
    generatedToken: env.PLUGBOARD_ADMIN_TOKEN ? null : created.token,
  };
}

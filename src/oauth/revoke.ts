import { eq } from "drizzle-orm";
import type { MemberRemovedHook } from "../auth/index.ts";
import { oauthArtifacts } from "./tables.ts";

/** A removed member's OAuth grants, tokens and sessions go with them, in the removal's transaction. */
export const revokeMemberOAuth: MemberRemovedHook = async (tx, _workspaceId, memberId) => {
  await tx.delete(oauthArtifacts).where(eq(oauthArtifacts.accountId, memberId));
};

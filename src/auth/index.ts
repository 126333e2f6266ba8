/**
 * auth's public module: what other domains use of members and workspaces. They import it rather
 * than auth's tables, so who counts as a current member is decided in one place
 * (.dependency-cruiser.cjs enforces it for new code).
 */

export type { Actor } from "./actor.ts";
export type { Authenticator } from "./authenticate.ts";
export {
  activeMemberIds,
  addServiceMember,
  findActiveMember,
  markMemberRemoved,
  memberRole,
  memberWithWorkspace,
} from "./memberLookup.ts";
export type { Role } from "./roles.ts";

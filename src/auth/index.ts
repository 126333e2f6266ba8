/**
 * auth's public module: actors, roles, credentials and members. Other folders import it rather
 * than auth's files or tables, so who counts as a current member is decided in one place
 * (.dependency-cruiser.cjs enforces it).
 */

// Its GraphQL types and fields register with the kernel's builder when this module loads.
import "./schema.ts";
import "./passwordSchema.ts";

export { type Actor, actorFor, joinedMember, type RequestMeta, requireAdmin, requireScope } from "./actor.ts";
export { ApiKeyService, apiKeyExists, issueApiKey } from "./apiKeys.ts";
export { Authenticator, type TokenVerifier } from "./authenticate.ts";
export { bootstrap } from "./bootstrap.ts";
export { type PresentedCredential, readCredential } from "./credentials.ts";
export {
  activeMemberIds,
  addServiceMember,
  findActiveMember,
  markMemberRemoved,
  memberRole,
  memberWithWorkspace,
} from "./memberLookup.ts";
export { isUniqueViolation, type MemberRemovedHook, MemberService } from "./members.ts";
export { checkEmailPassword } from "./passwords.ts";
export { effectiveScopes, isAdminRole, type Role, roleScopes, type Scope, scopes } from "./roles.ts";
export { MemberRef, RoleEnum } from "./schema.ts";
export type { MemberRow, WorkspaceRow } from "./tables.ts";
export { hashToken } from "./tokens.ts";
export {
  type CreatedWorkspace,
  createWorkspace,
  findWorkspace,
  type NewWorkspace,
  type WorkspaceSeeder,
} from "./workspaces.ts";

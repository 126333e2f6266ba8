export const roles = ["OWNER", "ADMIN", "MEMBER", "VIEWER"] as const;
export type Role = (typeof roles)[number];
export const scopes = ["READ", "WRITE", "ADMIN"] as const;
export type Scope = (typeof scopes)[number];

/** The widest scopes each role allows; a credential's scopes narrow these, never widen them. */
export const roleScopes: Record<Role, readonly Scope[]> = {
  OWNER: ["READ", "WRITE", "ADMIN"],
  ADMIN: ["READ", "WRITE", "ADMIN"],
  MEMBER: ["READ", "WRITE"],
  VIEWER: ["READ"],
};

export function effectiveScopes(role: Role, granted: readonly Scope[]): Scope[] {
  const allowed = roleScopes[role];
  return scopes.filter((scope) => allowed.includes(scope) && granted.includes(scope));
}

export function isAdminRole(role: Role): boolean {
  return role === "OWNER" || role === "ADMIN";
}

/** Whether `role` is above `other` (OWNER > ADMIN > MEMBER > VIEWER). */
export function outranks(role: Role, other: Role): boolean {
  return roles.indexOf(role) < roles.indexOf(other);
}

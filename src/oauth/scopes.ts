import { effectiveScopes, type Role, type Scope } from "../auth/index.ts";

/** The OAuth scopes a client may request, and the API scope each grants. */
export const oauthScopes = new Map<string, Scope>([
  ["read", "READ"],
  ["write", "WRITE"],
  ["admin", "ADMIN"],
]);

/**
 * The API scopes an OAuth `scope` string grants. A request naming none of `read`, `write`,
 * `admin` gets `read write` — like an API key created without scopes, minus the admin power,
 * which must be asked for by name. The member's role narrows the result further.
 */
export function apiScopesOf(scope: string | undefined | null): Scope[] {
  const granted = new Set<Scope>();
  for (const word of (scope ?? "").split(" ")) {
    const mapped = oauthScopes.get(word);
    if (mapped) granted.add(mapped);
  }
  if (granted.size === 0) return ["READ", "WRITE"];
  return [...granted];
}

/**
 * What an OAuth `scope` string actually grants a member of `role`, as an OAuth `scope` string: the
 * token response must list that, not what was asked for (`admin` asked by a MEMBER is not granted).
 */
export function grantedOAuthScope(role: Role, requested: string | undefined | null): string {
  const granted = new Set(effectiveScopes(role, apiScopesOf(requested)));
  return [...oauthScopes].flatMap(([word, scope]) => (granted.has(scope) ? [word] : [])).join(" ");
}

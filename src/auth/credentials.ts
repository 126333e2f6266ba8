/** A credential as presented, before it is checked. */
export type PresentedCredential =
  | { kind: "token"; token: string }
  | { kind: "password"; email: string; password: string };

function fromBasic(encoded: string): PresentedCredential | "malformed" {
  const decoded = Buffer.from(encoded, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return "malformed";
  const user = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  if (!user) return "malformed";
  // The API key as username with an empty password (how Zapier-style "API key as Basic" works).
  if (password === "") return { kind: "token", token: user };
  return { kind: "password", email: user, password };
}

/**
 * Reads the credential in docs/authentication.md's order: Authorization (Bearer, Basic), X-API-Key, then the
 * `access_token` query parameter. `"malformed"` means one was given but cannot be read.
 * `url` is the request's URL or path; it is parsed only when it may carry a token.
 */
export function readCredential(headers: Headers, url: string): PresentedCredential | "malformed" | null {
  const authorization = headers.get("authorization")?.trim();
  if (authorization) {
    const space = authorization.indexOf(" ");
    const scheme = (space < 0 ? authorization : authorization.slice(0, space)).toLowerCase();
    const value = space < 0 ? "" : authorization.slice(space + 1).trim();
    if (!value) return "malformed";
    if (scheme === "bearer") return { kind: "token", token: value };
    if (scheme === "basic") return fromBasic(value);
    return "malformed";
  }
  const apiKey = headers.get("x-api-key")?.trim();
  if (apiKey) return { kind: "token", token: apiKey };
  if (!url.includes("access_token")) return null;
  const accessToken = new URL(url, "http://localhost").searchParams.get("access_token");
  if (accessToken) return { kind: "token", token: accessToken };
  return null;
}

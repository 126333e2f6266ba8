import { createClient, type PlugboardClient } from "plugboard/client";

/**
 * What the user types into the platform's "connect an account" form: the server's address and an
 * API key, or an OAuth client for server-to-server connections (client credentials).
 */
export type Credentials =
  | { baseUrl: string; apiKey: string }
  | { baseUrl: string; clientId: string; clientSecret: string; scope?: string };

/** One client per connection; platforms call this at the start of every step. */
export function connect(credentials: Credentials): PlugboardClient {
  const base = credentials.baseUrl.replace(/\/+$/, "");
  if ("apiKey" in credentials) return createClient({ url: `${base}/graphql`, token: credentials.apiKey });
  return createClient({
    url: `${base}/graphql`,
    oauth: {
      tokenUrl: `${base}/oauth/token`,
      clientId: credentials.clientId,
      clientSecret: credentials.clientSecret,
      scope: credentials.scope,
    },
  });
}

/**
 * The auth test every platform runs when a connection is saved: one cheap authenticated call. It
 * throws (AuthenticationError, 401) for a bad key; the label names the connection in the UI.
 */
export async function testAuth(client: PlugboardClient): Promise<{ label: string; scopes: string[] }> {
  const viewer = await client.viewer();
  return { label: `${viewer.member.email} (${viewer.workspace.name})`, scopes: viewer.scopes };
}

import { errorFrom, NetworkError } from "./errors.ts";

/** OAuth 2.0 client credentials: a confidential client acting as its own service member. */
export interface OAuthClientCredentials {
  /** The token endpoint, e.g. https://plugboard.example.com/oauth/token */
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Space-separated, e.g. "read write"; default: what the server grants unasked. */
  scope?: string;
}

/** Hands out the bearer token to send; `invalidate` after a 401 so the next call fetches a new one. */
export interface TokenSource {
  token(): Promise<string | undefined>;
  invalidate(): void;
}

export function staticToken(token: string | undefined): TokenSource {
  return { token: async () => token, invalidate: () => {} };
}

/** Refresh this long before `expires_in` runs out, so no request leaves with a token about to expire. */
const EARLY_MS = 60_000;

/**
 * Client-credentials tokens, fetched on first use and again before they expire. Concurrent callers
 * share one token request.
 */
export function clientCredentials(options: OAuthClientCredentials, fetchFn: typeof fetch): TokenSource {
  let current: { token: string; refreshAt: number } | null = null;
  let pending: Promise<string> | null = null;

  async function fetchToken(): Promise<string> {
    const body = new URLSearchParams({ grant_type: "client_credentials" });
    if (options.scope) body.set("scope", options.scope);
    // client_secret_basic: RFC 6749 §2.3.1 form-encodes the id and secret before base64.
    const basic = btoa(`${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`);
    let response: Response;
    try {
      response = await fetchFn(options.tokenUrl, {
        method: "POST",
        headers: {
          authorization: `Basic ${basic}`,
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
        },
        body,
      });
    } catch (cause) {
      throw new NetworkError(`Token request failed: ${String(cause)}`, "NETWORK_ERROR", 0, {}, [], { cause });
    }
    const json = (await response.json().catch(() => ({}))) as {
      access_token?: string;
      expires_in?: number;
      error?: string;
      error_description?: string;
    };
    if (!response.ok || !json.access_token) {
      const message = `Token request refused: ${json.error ?? response.status}${json.error_description ? ` (${json.error_description})` : ""}`;
      throw errorFrom(response.status === 400 ? 401 : response.status, [], message);
    }
    const lifetimeMs = (json.expires_in ?? 3600) * 1000;
    current = {
      token: json.access_token,
      refreshAt: Date.now() + Math.max(lifetimeMs - EARLY_MS, lifetimeMs / 2),
    };
    return json.access_token;
  }

  return {
    async token() {
      if (current && Date.now() < current.refreshAt) return current.token;
      pending ??= fetchToken().finally(() => {
        pending = null;
      });
      return pending;
    },
    invalidate() {
      current = null;
    },
  };
}

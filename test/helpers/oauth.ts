import * as oauth from "oauth4webapi";
import { gqlOk } from "./graphql.ts";
import type { TestServer } from "./server.ts";

export const insecure = { [oauth.allowInsecureRequests]: true } as const;
export const REDIRECT_URI = "http://127.0.0.1:9/callback";

export interface RegisteredClient {
  id: string;
  clientId: string;
  clientSecret: string | null;
}

export async function createClient(
  server: TestServer,
  input: { confidential: boolean; redirectUris?: string[]; name?: string },
  token = server.owner.token,
): Promise<RegisteredClient> {
  const data = await gqlOk<{
    createOAuthClient: { oauthClient: { id: string; clientId: string }; clientSecret: string | null };
  }>(
    server.graphqlUrl,
    `mutation($input: CreateOAuthClientInput!) {
      createOAuthClient(input: $input) { oauthClient { id clientId } clientSecret }
    }`,
    {
      input: {
        name: input.name ?? "Connector",
        redirectUris: input.redirectUris ?? [REDIRECT_URI],
        confidential: input.confidential,
      },
    },
    { token },
  );
  return { ...data.createOAuthClient.oauthClient, clientSecret: data.createOAuthClient.clientSecret };
}

export async function discover(server: TestServer): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(`${server.url}/oauth`);
  const response = await oauth.discoveryRequest(issuer, { algorithm: "oidc", ...insecure });
  return oauth.processDiscoveryResponse(issuer, response);
}

/** A minimal browser: a cookie jar (by name; paths are the server's business) and manual redirects. */
export class Browser {
  private readonly cookies = new Map<string, string>();

  constructor(private readonly origin: string) {}

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) {
      headers.set("cookie", [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; "));
    }
    const response = await fetch(url, { ...init, headers, redirect: "manual" });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = cookie.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  /** Follows redirects on this server; stops at a page, or at a redirect leaving it (the callback). */
  async follow(url: string, init: RequestInit = {}): Promise<{ response: Response; url: string }> {
    let response = await this.request(url, init);
    let current = url;
    for (let hops = 0; hops < 10; hops++) {
      const location = response.headers.get("location");
      if (response.status < 300 || response.status >= 400 || !location) return { response, url: current };
      const next = new URL(location, current);
      if (next.origin !== this.origin) return { response, url: next.toString() };
      current = next.toString();
      response = await this.request(current);
    }
    throw new Error("too many redirects");
  }

  /** Submits the page's form (with its CSRF token) plus `fields`. */
  async submit(page: { response: Response; url: string }, fields: Record<string, string>) {
    const html = await page.response.text();
    const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
    if (!action || !csrf) throw new Error(`no form on the page:\n${html}`);
    return this.follow(new URL(action.replace(/&amp;/g, "&"), page.url).toString(), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf, ...fields }).toString(),
    });
  }
}

export interface AuthorizeOptions {
  client: RegisteredClient;
  email: string;
  password: string;
  scope?: string;
  pkce?: boolean;
  redirectUri?: string;
}

/** Discovery → authorize → login form → consent → the callback URL with the code. */
export async function authorize(
  server: TestServer,
  as: oauth.AuthorizationServer,
  options: AuthorizeOptions,
) {
  const browser = new Browser(server.url);
  const state = oauth.generateRandomState();
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const url = new URL(as.authorization_endpoint ?? "");
  url.searchParams.set("client_id", options.client.clientId);
  url.searchParams.set("redirect_uri", options.redirectUri ?? REDIRECT_URI);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("scope", options.scope ?? "read write");
  url.searchParams.set("state", state);
  if (options.pkce) {
    url.searchParams.set("code_challenge", await oauth.calculatePKCECodeChallenge(codeVerifier));
    url.searchParams.set("code_challenge_method", "S256");
  }
  const login = await browser.follow(url.toString());
  if (login.response.status !== 200)
    throw new Error(`authorize: ${login.response.status} ${await login.response.text()}`);
  const consent = await browser.submit(login, { email: options.email, password: options.password });
  if (consent.response.status !== 200)
    throw new Error(`login: ${consent.response.status} ${await consent.response.text()}`);
  const done = await browser.submit(consent, { decision: "allow" });
  return { callback: new URL(done.url), state, codeVerifier, browser };
}

export async function setPassword(server: TestServer, token: string, password: string): Promise<void> {
  await gqlOk(
    server.graphqlUrl,
    `mutation($input: SetPasswordInput!) { setPassword(input: $input) { member { id } } }`,
    { input: { password } },
    { token },
  );
}

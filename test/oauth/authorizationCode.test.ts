import * as oauth from "oauth4webapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorCode, gql, gqlOk } from "../helpers/graphql.ts";
import {
  authorize,
  createClient,
  discover,
  insecure,
  REDIRECT_URI,
  type RegisteredClient,
  setPassword,
} from "../helpers/oauth.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

const PASSWORD = "correct horse battery staple";
const VIEWER = "{ viewer { member { id } scopes } }";

let server: TestServer;
let as: oauth.AuthorizationServer;
let confidential: RegisteredClient;

beforeAll(async () => {
  server = await startServer();
  await setPassword(server, server.owner.token, PASSWORD);
  as = await discover(server);
  confidential = await createClient(server, { confidential: true });
});
afterAll(() => server?.close());

function auth(client: RegisteredClient): oauth.ClientAuth {
  return client.clientSecret ? oauth.ClientSecretBasic(client.clientSecret) : oauth.None();
}

async function exchange(
  client: RegisteredClient,
  callback: URL,
  state: string,
  verifier: string | typeof oauth.nopkce,
) {
  const params = oauth.validateAuthResponse(as, { client_id: client.clientId }, callback, state);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    { client_id: client.clientId },
    auth(client),
    params,
    REDIRECT_URI,
    verifier,
    insecure,
  );
  return oauth.processAuthorizationCodeResponse(as, { client_id: client.clientId }, response);
}

describe("discovery", () => {
  it("serves metadata at the issuer and at both RFC 8414 locations", async () => {
    expect(as.issuer).toBe(`${server.url}/oauth`);
    expect(as.token_endpoint).toBe(`${server.url}/oauth/token`);
    expect(as.grant_types_supported).toEqual(
      expect.arrayContaining(["authorization_code", "refresh_token", "client_credentials"]),
    );
    for (const path of [
      "/.well-known/oauth-authorization-server/oauth",
      "/.well-known/oauth-authorization-server",
    ]) {
      const metadata = (await (await fetch(`${server.url}${path}`)).json()) as Record<string, unknown>;
      expect(metadata.issuer).toBe(as.issuer);
      expect(metadata.token_endpoint).toBe(as.token_endpoint);
    }
  });
});

describe("authorization code", () => {
  it("runs the whole flow for a confidential client without PKCE, then refreshes", async () => {
    const { callback, state } = await authorize(server, as, {
      client: confidential,
      email: "owner@example.com",
      password: PASSWORD,
    });
    const tokens = await exchange(confidential, callback, state, oauth.nopkce);
    expect(tokens.token_type.toLowerCase()).toBe("bearer");
    expect(tokens.expires_in).toBe(3600);
    expect(tokens.refresh_token).toBeTruthy();
    const viewer = await gqlOk<{ viewer: { member: { id: string }; scopes: string[] } }>(
      server.graphqlUrl,
      VIEWER,
      {},
      { token: tokens.access_token },
    );
    expect(viewer.viewer.member.id).toBe(server.owner.memberId);
    expect(viewer.viewer.scopes).toEqual(["READ", "WRITE"]);

    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      { client_id: confidential.clientId },
      // The secret in the body this time (client_secret_post): connectors do either.
      await oauth.refreshTokenGrantRequest(
        as,
        { client_id: confidential.clientId },
        oauth.ClientSecretPost(confidential.clientSecret ?? ""),
        tokens.refresh_token ?? "",
        insecure,
      ),
    );
    expect(refreshed.expires_in).toBe(3600);
    // Confidential clients keep their refresh token: it is not rotated.
    expect(refreshed.refresh_token).toBe(tokens.refresh_token);
    const again = await gqlOk<{ viewer: { member: { id: string } } }>(
      server.graphqlUrl,
      VIEWER,
      {},
      { token: refreshed.access_token },
    );
    expect(again.viewer.member.id).toBe(server.owner.memberId);
  });

  it("keeps no session after the authorization: the next one asks to sign in again", async () => {
    const first = await authorize(server, as, {
      client: confidential,
      email: "owner@example.com",
      password: PASSWORD,
    });
    const url = new URL(as.authorization_endpoint ?? "");
    url.search = new URLSearchParams({
      client_id: confidential.clientId,
      redirect_uri: REDIRECT_URI,
      response_type: "code",
      scope: "read",
    }).toString();
    const next = await first.browser.follow(url.toString());
    expect(next.response.status).toBe(200);
    expect(await next.response.text()).toContain('type="password"');
  });

  it("requires PKCE from a public client, and completes with it", async () => {
    const pub = await createClient(server, { confidential: false, name: "Desktop app" });
    const refused = await fetch(
      `${as.authorization_endpoint}?${new URLSearchParams({
        client_id: pub.clientId,
        redirect_uri: REDIRECT_URI,
        response_type: "code",
        scope: "read",
      })}`,
      { redirect: "manual" },
    );
    expect(new URL(refused.headers.get("location") ?? "").searchParams.get("error")).toBe("invalid_request");

    const flow = await authorize(server, as, {
      client: pub,
      email: "owner@example.com",
      password: PASSWORD,
      scope: "read",
      pkce: true,
    });
    const tokens = await exchange(pub, flow.callback, flow.state, flow.codeVerifier);
    const viewer = await gqlOk<{ viewer: { scopes: string[] } }>(
      server.graphqlUrl,
      VIEWER,
      {},
      {
        token: tokens.access_token,
      },
    );
    expect(viewer.viewer.scopes).toEqual(["READ"]);
  });

  it("refuses a reused code, a wrong redirect URI and a wrong client secret", async () => {
    const flow = await authorize(server, as, {
      client: confidential,
      email: "owner@example.com",
      password: PASSWORD,
      pkce: true,
    });
    const params = oauth.validateAuthResponse(
      as,
      { client_id: confidential.clientId },
      flow.callback,
      flow.state,
    );
    const tokenRequest = (redirectUri: string, secret: string) =>
      oauth.authorizationCodeGrantRequest(
        as,
        { client_id: confidential.clientId },
        oauth.ClientSecretBasic(secret),
        params,
        redirectUri,
        flow.codeVerifier,
        insecure,
      );
    const wrongSecret = await tokenRequest(REDIRECT_URI, "pbcs_wrong");
    expect(wrongSecret.status).toBe(401);
    expect(((await wrongSecret.json()) as { error: string }).error).toBe("invalid_client");
    const wrongRedirect = await tokenRequest("http://127.0.0.1:9/elsewhere", confidential.clientSecret ?? "");
    expect(((await wrongRedirect.json()) as { error: string }).error).toBe("invalid_grant");
    // The refused attempts above did not consume the code; the first real exchange does.
    const first = await tokenRequest(REDIRECT_URI, confidential.clientSecret ?? "");
    expect(first.status).toBe(200);
    const reused = await tokenRequest(REDIRECT_URI, confidential.clientSecret ?? "");
    expect(((await reused.json()) as { error: string }).error).toBe("invalid_grant");

    // An unregistered redirect URI never reaches the login page.
    const unregistered = await fetch(
      `${as.authorization_endpoint}?${new URLSearchParams({
        client_id: confidential.clientId,
        redirect_uri: "https://evil.example/callback",
        response_type: "code",
        scope: "read",
      })}`,
      { redirect: "manual" },
    );
    expect(unregistered.status).toBe(400);
  });

  it("grants read write when no API scope is named, with an ID token for openid", async () => {
    const flow = await authorize(server, as, {
      client: confidential,
      email: "owner@example.com",
      password: PASSWORD,
      scope: "openid",
    });
    const tokens = await exchange(confidential, flow.callback, flow.state, oauth.nopkce);
    expect(oauth.getValidatedIdTokenClaims(tokens)?.sub).toBe(server.owner.memberId);
    const viewer = await gqlOk<{ viewer: { scopes: string[] } }>(
      server.graphqlUrl,
      VIEWER,
      {},
      {
        token: tokens.access_token,
      },
    );
    expect(viewer.viewer.scopes).toEqual(["READ", "WRITE"]);
  });

  it("lets a read-only token read but not write", async () => {
    const flow = await authorize(server, as, {
      client: confidential,
      email: "owner@example.com",
      password: PASSWORD,
      scope: "read",
    });
    const tokens = await exchange(confidential, flow.callback, flow.state, oauth.nopkce);
    const read = await gql(server.graphqlUrl, VIEWER, {}, { token: tokens.access_token });
    expect(read.status).toBe(200);
    const writes = [
      `mutation { setPassword(input: { password: "another password", currentPassword: "${PASSWORD}" }) { member { id } } }`,
      `mutation { createMember(input: { email: "new@example.com", role: VIEWER }) { member { id } } }`,
    ];
    for (const mutation of writes) {
      const write = await gql(server.graphqlUrl, mutation, {}, { token: tokens.access_token });
      expect(errorCode(write), mutation).toBe("FORBIDDEN");
    }
  });

  it("refuses a wrong password on the login page and keeps the form usable", async () => {
    const url = new URL(as.authorization_endpoint ?? "");
    url.search = new URLSearchParams({
      client_id: confidential.clientId,
      redirect_uri: REDIRECT_URI,
      response_type: "code",
      scope: "read",
    }).toString();
    const { Browser } = await import("../helpers/oauth.ts");
    const browser = new Browser(server.url);
    const login = await browser.follow(url.toString());
    const failed = await browser.submit(login, { email: "owner@example.com", password: "wrong password" });
    expect(failed.response.status).toBe(401);
    const html = await failed.response.clone().text();
    expect(html).toContain('role="alert"');
    // A post without the page's CSRF token is refused.
    const forged = await browser.request(
      new URL(`${new URL(login.url).pathname}/login`, server.url).toString(),
      {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          email: "owner@example.com",
          password: PASSWORD,
          csrf: "forged",
        }).toString(),
      },
    );
    expect(forged.status).toBe(403);
  });
});

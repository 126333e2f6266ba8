import * as oauth from "oauth4webapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gqlOk } from "../helpers/graphql.ts";
import {
  Browser,
  createClient,
  discover,
  insecure,
  REDIRECT_URI,
  type RegisteredClient,
} from "../helpers/oauth.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
let as: oauth.AuthorizationServer;
let client: RegisteredClient;

beforeAll(async () => {
  server = await startServer();
  as = await discover(server);
  client = await createClient(server, { confidential: true });
});
afterAll(() => server?.close());

async function clientCredentials(scope?: string) {
  const response = await oauth.clientCredentialsGrantRequest(
    as,
    { client_id: client.clientId },
    oauth.ClientSecretBasic(client.clientSecret ?? ""),
    scope === undefined ? {} : { scope },
    insecure,
  );
  const body = (await response.clone().json()) as { scope?: string; access_token: string };
  const viewer = await gqlOk<{ viewer: { scopes: string[] } }>(
    server.graphqlUrl,
    "{ viewer { scopes } }",
    {},
    { token: body.access_token },
  );
  return { scope: body.scope, granted: viewer.viewer.scopes };
}

describe("OAuth responses say only what is true", () => {
  it("lists in a client_credentials response only the scopes the token grants", async () => {
    // The service member is a MEMBER: `admin` is asked for but not granted.
    const asked = await clientCredentials("read write admin");
    expect(asked.granted.sort()).toEqual(["READ", "WRITE"]);
    expect(asked.scope?.split(" ").sort()).toEqual(["read", "write"]);
    const readOnly = await clientCredentials("read");
    expect([readOnly.scope, readOnly.granted]).toEqual(["read", ["READ"]]);
    // Nothing asked: `read write`, as for an API key made without scopes, and said so.
    const unasked = await clientCredentials();
    expect([unasked.scope, unasked.granted.sort()]).toEqual(["read write", ["READ", "WRITE"]]);
  });

  it("advertises in discovery only grant types a client can use", async () => {
    const response = await fetch(`${server.url}/.well-known/oauth-authorization-server`);
    const metadata = (await response.json()) as Record<string, string[] | undefined>;
    expect(metadata.grant_types_supported?.sort()).toEqual(
      ["authorization_code", "client_credentials", "refresh_token"].sort(),
    );
    expect(metadata.response_types_supported).toEqual(["code"]);
    expect(metadata.token_endpoint_auth_methods_supported?.sort()).toEqual([
      "client_secret_basic",
      "client_secret_post",
      "none",
    ]);
  });

  it("refuses an oversized login form with 413", async () => {
    const browser = new Browser(server.url);
    const url = new URL(as.authorization_endpoint ?? "");
    url.searchParams.set("client_id", client.clientId);
    url.searchParams.set("redirect_uri", REDIRECT_URI);
    url.searchParams.set("response_type", "code");
    url.searchParams.set("scope", "read");
    url.searchParams.set("state", "s");
    const login = await browser.follow(url.toString());
    expect(login.response.status).toBe(200);
    const refused = await browser.submit(login, { email: "a".repeat(64 * 1024), password: "x" });
    expect(refused.response.status).toBe(413);
    expect(await refused.response.text()).toMatch(/too large/i);
  });
});

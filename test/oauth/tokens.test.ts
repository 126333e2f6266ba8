import { sql } from "drizzle-orm";
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
const VIEWER = "{ viewer { member { id email } scopes } }";
const INVALID_TOKEN = 'Bearer realm="plugboard", error="invalid_token"';

let server: TestServer;
let as: oauth.AuthorizationServer;
let client: RegisteredClient;

beforeAll(async () => {
  server = await startServer({ PLUGBOARD_ADMIN_PASSWORD: PASSWORD });
  as = await discover(server);
  client = await createClient(server, { confidential: true });
});
afterAll(() => server?.close());

function secretOf(c: RegisteredClient): oauth.ClientAuth {
  return oauth.ClientSecretBasic(c.clientSecret ?? "");
}

/** Runs the browser flow and the code exchange for `email` through `c`. */
async function tokensFor(c: RegisteredClient, email: string, password = PASSWORD, scope = "read write") {
  const flow = await authorize(server, as, { client: c, email, password, scope });
  const params = oauth.validateAuthResponse(as, { client_id: c.clientId }, flow.callback, flow.state);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    { client_id: c.clientId },
    secretOf(c),
    params,
    REDIRECT_URI,
    oauth.nopkce,
    insecure,
  );
  return oauth.processAuthorizationCodeResponse(as, { client_id: c.clientId }, response);
}

function refresh(c: RegisteredClient, refreshToken: string) {
  return oauth.refreshTokenGrantRequest(as, { client_id: c.clientId }, secretOf(c), refreshToken, insecure);
}

async function viewerStatus(token: string) {
  const result = await gql(server.graphqlUrl, VIEWER, {}, { token });
  return {
    status: result.status,
    challenge: result.headers.get("www-authenticate"),
    code: errorCode(result),
  };
}

describe("client credentials", () => {
  it("issues a token acting as the client's service member", async () => {
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      { client_id: client.clientId },
      secretOf(client),
      { scope: "read" },
      insecure,
    );
    const tokens = await oauth.processClientCredentialsResponse(as, { client_id: client.clientId }, response);
    expect(tokens.expires_in).toBe(3600);
    const data = await gqlOk<{ viewer: { member: { id: string; email: string }; scopes: string[] } }>(
      server.graphqlUrl,
      VIEWER,
      {},
      { token: tokens.access_token },
    );
    expect(data.viewer.member.email).toBe(`${client.clientId}@oauth-clients.invalid`);
    expect(data.viewer.scopes).toEqual(["READ"]);
    const members = await gqlOk<{ members: { id: string; role: string }[] }>(
      server.graphqlUrl,
      "{ members { id role } }",
      {},
      { token: server.owner.token },
    );
    expect(members.members).toContainEqual({ id: data.viewer.member.id, role: "MEMBER" });
  });

  it("is refused to public clients", async () => {
    const pub = await createClient(server, { confidential: false });
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      { client_id: pub.clientId },
      oauth.None(),
      {},
      insecure,
    );
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string; access_token?: string };
    expect(body.access_token).toBeUndefined();
    expect(["invalid_request", "unauthorized_client"]).toContain(body.error);
  });
});

describe("refresh, introspection and revocation", () => {
  it("refreshes one confidential-client refresh token twice at once", async () => {
    const tokens = await tokensFor(client, "owner@example.com");
    const [a, b] = await Promise.all([
      refresh(client, tokens.refresh_token ?? ""),
      refresh(client, tokens.refresh_token ?? ""),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    for (const response of [a, b]) {
      const body = (await response.json()) as {
        access_token: string;
        refresh_token: string;
        expires_in: number;
      };
      expect(body.refresh_token).toBe(tokens.refresh_token);
      expect(body.expires_in).toBe(3600);
      expect((await viewerStatus(body.access_token)).status).toBe(200);
    }
  });

  it("introspects and revokes; a revoked grant's tokens answer 401 invalid_token", async () => {
    const tokens = await tokensFor(client, "owner@example.com");
    const introspect = async (token: string) =>
      oauth.processIntrospectionResponse(
        as,
        { client_id: client.clientId },
        await oauth.introspectionRequest(
          as,
          { client_id: client.clientId },
          secretOf(client),
          token,
          insecure,
        ),
      );
    const active = await introspect(tokens.access_token);
    expect(active).toMatchObject({ active: true, client_id: client.clientId, scope: "read write" });
    expect(active.sub).toBe(server.owner.memberId);
    expect((await viewerStatus(tokens.access_token)).status).toBe(200);

    // Another client may not look at this client's tokens.
    const other = await createClient(server, { confidential: true, name: "Other" });
    const foreign = await oauth.processIntrospectionResponse(
      as,
      { client_id: other.clientId },
      await oauth.introspectionRequest(
        as,
        { client_id: other.clientId },
        secretOf(other),
        tokens.access_token,
        insecure,
      ),
    );
    expect(foreign.active).toBe(false);

    const revoked = await oauth.revocationRequest(
      as,
      { client_id: client.clientId },
      secretOf(client),
      tokens.refresh_token ?? "",
      insecure,
    );
    await oauth.processRevocationResponse(revoked);
    expect((await introspect(tokens.access_token)).active).toBe(false);
    expect(await viewerStatus(tokens.access_token)).toEqual({
      status: 401,
      challenge: INVALID_TOKEN,
      code: "UNAUTHENTICATED",
    });
    const refreshed = await refresh(client, tokens.refresh_token ?? "");
    expect(((await refreshed.json()) as { error: string }).error).toBe("invalid_grant");
  });

  it("answers an expired access token with 401 invalid_token", async () => {
    const tokens = await tokensFor(client, "owner@example.com");
    // An hour is long to wait: age the stored token instead (before it is ever cached).
    await server.database.db.execute(
      sql`update oauth_artifacts set expires_at = now() - interval '1 second',
            payload = jsonb_set(payload, '{exp}', to_jsonb(extract(epoch from now())::int - 1))
          where model = 'AccessToken'`,
    );
    expect(await viewerStatus(tokens.access_token)).toEqual({
      status: 401,
      challenge: INVALID_TOKEN,
      code: "UNAUTHENTICATED",
    });
    // The refresh token still works and brings a fresh access token.
    const refreshed = (await (await refresh(client, tokens.refresh_token ?? "")).json()) as {
      access_token: string;
    };
    expect((await viewerStatus(refreshed.access_token)).status).toBe(200);
  });

  it("answers a refresh during a storage failure with a 5xx, never invalid_grant", async () => {
    const tokens = await tokensFor(client, "owner@example.com");
    const db = server.database.db;
    // A real fault: the table disappears for a moment, as in a failover.
    await db.execute(sql`alter table oauth_artifacts rename to oauth_artifacts_away`);
    let failed: Response;
    try {
      failed = await refresh(client, tokens.refresh_token ?? "");
    } finally {
      await db.execute(sql`alter table oauth_artifacts_away rename to oauth_artifacts`);
    }
    expect(failed.status).toBeGreaterThanOrEqual(500);
    expect(((await failed.json()) as { error: string }).error).not.toBe("invalid_grant");
    expect((await refresh(client, tokens.refresh_token ?? "")).status).toBe(200);
  });

  it("ends a removed member's tokens and refresh tokens", async () => {
    const member = await gqlOk<{ createMember: { member: { id: string } } }>(
      server.graphqlUrl,
      `mutation { createMember(input: { email: "leaver@example.com", role: MEMBER }) { member { id } } }`,
      {},
      { token: server.owner.token },
    );
    const memberId = member.createMember.member.id;
    const key = await gqlOk<{ createApiKey: { token: string } }>(
      server.graphqlUrl,
      `mutation($id: ID!) { createApiKey(input: { name: "leaver", memberId: $id }) { token } }`,
      { id: memberId },
      { token: server.owner.token },
    );
    await setPassword(server, key.createApiKey.token, "leaver password");
    const tokens = await tokensFor(client, "leaver@example.com", "leaver password");
    expect((await viewerStatus(tokens.access_token)).status).toBe(200);

    await gqlOk(
      server.graphqlUrl,
      `mutation($id: ID!) { removeMember(input: { memberId: $id }) { deletedId } }`,
      { id: memberId },
      { token: server.owner.token },
    );
    expect((await viewerStatus(tokens.access_token)).status).toBe(401);
    const refreshed = await refresh(client, tokens.refresh_token ?? "");
    expect(((await refreshed.json()) as { error: string }).error).toBe("invalid_grant");
  });

  it("ends every token of a deleted client at once", async () => {
    const doomed = await createClient(server, { confidential: true, name: "Doomed" });
    const tokens = await tokensFor(doomed, "owner@example.com");
    expect((await viewerStatus(tokens.access_token)).status).toBe(200);
    const deleted = await gqlOk<{ deleteOAuthClient: { deletedId: string } }>(
      server.graphqlUrl,
      `mutation($id: ID!) { deleteOAuthClient(input: { id: $id }) { deletedId } }`,
      { id: doomed.id },
      { token: server.owner.token },
    );
    expect(deleted.deleteOAuthClient.deletedId).toBe(doomed.id);
    expect((await viewerStatus(tokens.access_token)).status).toBe(401);
    const refreshed = await refresh(doomed, tokens.refresh_token ?? "");
    expect(((await refreshed.json()) as { error: string }).error).toBe("invalid_client");
  });
});

describe("managing clients", () => {
  it("lists clients to admins, with the secret shown only at creation", async () => {
    const data = await gqlOk<{ oauthClients: { id: string; clientId: string; confidential: boolean }[] }>(
      server.graphqlUrl,
      "{ oauthClients { id clientId name redirectUris confidential createdAt } }",
      {},
      { token: server.owner.token },
    );
    expect(data.oauthClients.map((c) => c.id)).toContain(client.id);
    expect(client.clientSecret).toMatch(/^pbcs_/);
    const node = await gqlOk<{ node: { clientId: string } | null }>(
      server.graphqlUrl,
      "query($id: ID!) { node(id: $id) { ... on OAuthClient { clientId } } }",
      { id: client.id },
      { token: server.owner.token },
    );
    expect(node.node?.clientId).toBe(client.clientId);
  });

  it("refuses bad redirect URIs, naming the field", async () => {
    for (const uri of ["http://example.com/callback", "not a url", "https://example.com/cb#frag"]) {
      const result = await gql(
        server.graphqlUrl,
        `mutation($uri: String!) { createOAuthClient(input: { name: "x", redirectUris: [$uri], confidential: true }) { clientSecret } }`,
        { uri },
        { token: server.owner.token },
      );
      expect(errorCode(result), uri).toBe("BAD_USER_INPUT");
      expect(result.errors?.[0]?.extensions?.field).toBe("redirectUris");
    }
    const localhost = await createClient(server, {
      confidential: false,
      redirectUris: ["http://localhost:3000/cb", "https://connector.example/oauth/callback"],
    });
    expect(localhost.clientSecret).toBeNull();
  });

  it("is for owners and admins only, and another workspace's client is not found", async () => {
    const member = await gqlOk<{ createMember: { member: { id: string } } }>(
      server.graphqlUrl,
      `mutation { createMember(input: { email: "plain@example.com", role: MEMBER }) { member { id } } }`,
      {},
      { token: server.owner.token },
    );
    const key = await gqlOk<{ createApiKey: { token: string } }>(
      server.graphqlUrl,
      `mutation($id: ID!) { createApiKey(input: { name: "plain", memberId: $id }) { token } }`,
      { id: member.createMember.member.id },
      { token: server.owner.token },
    );
    const listed = await gql(
      server.graphqlUrl,
      "{ oauthClients { id } }",
      {},
      { token: key.createApiKey.token },
    );
    expect(errorCode(listed)).toBe("FORBIDDEN");

    const tenant = await server.createTenant();
    const foreign = await gql(
      server.graphqlUrl,
      `mutation($id: ID!) { deleteOAuthClient(input: { id: $id }) { deletedId } }`,
      { id: client.id },
      { token: tenant.token },
    );
    expect(errorCode(foreign)).toBe("NOT_FOUND");
  });
});

import { createPublicKey, verify } from "node:crypto";
import type { AddressInfo } from "node:net";
import * as oauth from "oauth4webapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/kernel/logger.ts";
import { type App, buildApp } from "../../src/server/app.ts";
import { gqlOk } from "../helpers/graphql.ts";
import { authorize, createClient, discover, insecure, REDIRECT_URI, setPassword } from "../helpers/oauth.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

const PASSWORD = "shared between processes";

let server: TestServer;
let second: App;
let secondUrl: string;

beforeAll(async () => {
  server = await startServer();
  await setPassword(server, server.owner.token, PASSWORD);
  // A second process on the same database, behind the same public URL (as behind a load balancer).
  const env = { ...server.env, PUBLIC_URL: server.url, publicUrl: server.url };
  second = buildApp({
    database: { db: server.database.db, backgroundDb: server.database.backgroundDb },
    env,
    logger: createLogger("silent"),
  });
  await new Promise<void>((resolve) => second.server.listen(0, "127.0.0.1", resolve));
  secondUrl = `http://127.0.0.1:${(second.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await second?.close();
  await server?.close();
});

describe("several processes", () => {
  it("share keys, codes and tokens through the database", async () => {
    const as = await discover(server);
    const client = await createClient(server, { confidential: true });
    const jwks = async (base: string) => (await fetch(`${base}/oauth/jwks`)).json();
    expect(await jwks(secondUrl)).toEqual(await jwks(server.url));

    // Authorize on the first process, redeem the code and refresh on the second.
    const flow = await authorize(server, as, {
      client,
      email: "owner@example.com",
      password: PASSWORD,
      scope: "openid read",
    });
    const onSecond = { ...as, token_endpoint: `${secondUrl}/oauth/token` };
    const params = oauth.validateAuthResponse(as, { client_id: client.clientId }, flow.callback, flow.state);
    const tokens = await oauth.processAuthorizationCodeResponse(
      onSecond,
      { client_id: client.clientId },
      await oauth.authorizationCodeGrantRequest(
        onSecond,
        { client_id: client.clientId },
        oauth.ClientSecretBasic(client.clientSecret ?? ""),
        params,
        REDIRECT_URI,
        oauth.nopkce,
        insecure,
      ),
    );
    // The ID token signed by the second process verifies with the key the first one publishes.
    expect(oauth.getValidatedIdTokenClaims(tokens)?.iss).toBe(as.issuer);
    const [header = "", payload = "", signature = ""] = (tokens.id_token ?? "").split(".");
    const { keys } = (await jwks(server.url)) as { keys: Record<string, unknown>[] };
    const key = createPublicKey({ key: keys[0] as never, format: "jwk" });
    const signed = Buffer.from(`${header}.${payload}`);
    expect(verify("sha256", signed, key, Buffer.from(signature, "base64url"))).toBe(true);
    const viewer = await gqlOk<{ viewer: { member: { id: string } } }>(
      `${server.url}/graphql`,
      "{ viewer { member { id } } }",
      {},
      { token: tokens.access_token },
    );
    expect(viewer.viewer.member.id).toBe(server.owner.memberId);
  });
});

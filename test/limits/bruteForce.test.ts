import { request } from "node:http";
import { createClient as createWsClient } from "graphql-ws";
import * as oauth from "oauth4webapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type GraphQLResponse, gql, gqlOk } from "../helpers/graphql.ts";
import { Browser, createClient, discover, REDIRECT_URI, setPassword } from "../helpers/oauth.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

const PASSWORD = "the right password";
const MAX_FAILURES = 3;
const LOCK_SECONDS = 2;
const VIEWER = "{ viewer { member { id } } }";

let server: TestServer;

function startLimited(): Promise<TestServer> {
  return startServer({
    PLUGBOARD_ADMIN_PASSWORD: PASSWORD,
    PLUGBOARD_PASSWORD_CACHE_SECONDS: "0",
    PLUGBOARD_LOGIN_MAX_FAILURES: String(MAX_FAILURES),
    PLUGBOARD_LOGIN_LOCK_SECONDS: String(LOCK_SECONDS),
  });
}

beforeAll(async () => {
  server = await startLimited();
});
afterAll(async () => server?.close());

function basic(target: TestServer, email: string, password: string): Promise<GraphQLResponse> {
  const authorization = `Basic ${Buffer.from(`${email}:${password}`).toString("base64")}`;
  return gql(target.graphqlUrl, VIEWER, {}, { headers: { authorization } });
}

/** Basic from another source address (127.0.0.2), as a client elsewhere would. */
function basicFrom(email: string, password: string): Promise<{ status: number }> {
  const { port, pathname } = new URL(server.graphqlUrl);
  const body = JSON.stringify({ query: VIEWER });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: pathname,
        method: "POST",
        localAddress: "127.0.0.2",
        headers: {
          "content-type": "application/json",
          authorization: `Basic ${Buffer.from(`${email}:${password}`).toString("base64")}`,
        },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0 }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

function expectLocked(result: GraphQLResponse): number {
  expect(result.status).toBe(429);
  expect(result.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
  const retryAfter = Number(result.headers.get("retry-after"));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(result.errors?.[0]?.extensions?.retryAfter).toBe(retryAfter);
  return retryAfter;
}

async function emailOf(token: string): Promise<string> {
  const data = await gqlOk<{ viewer: { member: { email: string } } }>(
    server.graphqlUrl,
    "{ viewer { member { email } } }",
    {},
    { token },
  );
  return data.viewer.member.email;
}

const sleep = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000 + 100));

describe("Basic email/password guessing", () => {
  it("locks the email with 429 (even for the right password) and lets it in once the lock ends", async () => {
    for (let i = 0; i < MAX_FAILURES; i++) {
      expect((await basic(server, "owner@example.com", `guess ${i}`)).status).toBe(401);
    }
    const wait = expectLocked(await basic(server, "owner@example.com", PASSWORD));
    expect(wait).toBeLessThanOrEqual(LOCK_SECONDS);
    await sleep(wait);
    expect((await basic(server, "owner@example.com", PASSWORD)).status).toBe(200);
  });

  it("doubles the lock with each further failure, then forgets after a success", async () => {
    // A member that has not signed in from this address yet (one that has is not held by its
    // email's lock, only by the address's: an attacker elsewhere cannot keep them out).
    const tenant = await server.createTenant();
    await setPassword(server, tenant.token, PASSWORD);
    const email = await emailOf(tenant.token);
    for (let i = 0; i < MAX_FAILURES; i++) await basic(server, email, `again ${i}`);
    await sleep(expectLocked(await basic(server, email, "x")));
    // One more failure past the threshold: twice the first lock.
    expect((await basic(server, email, "still wrong")).status).toBe(401);
    const doubled = expectLocked(await basic(server, email, PASSWORD));
    expect(doubled).toBeGreaterThan(LOCK_SECONDS);
    expect(doubled).toBeLessThanOrEqual(2 * LOCK_SECONDS);
    await sleep(doubled);
    expect((await basic(server, email, PASSWORD)).status).toBe(200);
    expect((await basic(server, email, "one slip")).status).toBe(401);
    expect((await basic(server, email, PASSWORD)).status).toBe(200);
  });

  it("does not hold an address that signed in as the email before: an attacker cannot keep its owner out", async () => {
    const tenant = await server.createTenant();
    await setPassword(server, tenant.token, PASSWORD);
    const email = await emailOf(tenant.token);
    expect((await basic(server, email, PASSWORD)).status).toBe(200); // the owner, from 127.0.0.1
    // The attacker, from another address, locks the email for everyone else.
    for (let i = 0; i < MAX_FAILURES; i++) {
      expect((await basicFrom(email, `guess ${i}`)).status).toBe(401);
    }
    expect((await basicFrom(email, PASSWORD)).status).toBe(429);
    expect((await basic(server, email, PASSWORD)).status).toBe(200);
  });

  it("locks an address that guesses across many emails", async () => {
    const fresh = await startLimited();
    try {
      // An address gets four times an email's tries before it locks.
      for (let i = 0; i < 4 * MAX_FAILURES; i++) {
        expect((await basic(fresh, `someone${i}@example.com`, "guess")).status).toBe(401);
      }
      expectLocked(await basic(fresh, "owner@example.com", PASSWORD));
    } finally {
      await fresh.close();
    }
  }, 60_000); // a second server and a dozen argon2 checks
});

/** WebSockets from their own address (127.0.0.3), so their failures do not lock the others' 127.0.0.1. */
class WebSocketFromElsewhere extends WebSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols, { localAddress: "127.0.0.3" });
  }
}

/** Opens a graphql-ws connection with Basic in `connection_init`: "connected", or the close code. */
function connectWs(email: string, password: string): Promise<"connected" | number> {
  const authorization = `Basic ${Buffer.from(`${email}:${password}`).toString("base64")}`;
  return new Promise((resolve) => {
    const client = createWsClient({
      url: server.wsUrl,
      webSocketImpl: WebSocketFromElsewhere,
      connectionParams: { authorization },
      lazy: false,
      retryAttempts: 0,
      onNonLazyError: () => {},
      on: {
        connected: () => {
          resolve("connected");
          void client.dispose();
        },
        closed: (event) => resolve((event as { code: number }).code),
      },
    });
  });
}

describe("WebSocket connection_init with a password", () => {
  it("is braked like Basic over HTTP: 4429 while the email is locked", async () => {
    const tenant = await server.createTenant();
    await setPassword(server, tenant.token, PASSWORD);
    const email = await emailOf(tenant.token);
    for (let i = 0; i < MAX_FAILURES; i++) expect(await connectWs(email, `guess ${i}`)).toBe(4403);
    expect(await connectWs(email, PASSWORD)).toBe(4429);
    await sleep(LOCK_SECONDS);
    expect(await connectWs(email, PASSWORD)).toBe("connected");
  });
});

describe("the OAuth login form", () => {
  it("answers guessing with a 429 page and Retry-After, then signs in once the lock ends", async () => {
    const tenant = await server.createTenant();
    await setPassword(server, tenant.token, PASSWORD);
    const email = await emailOf(tenant.token);
    const client = await createClient(server, { confidential: true });
    const as = await discover(server);
    const url = new URL(as.authorization_endpoint ?? "");
    url.searchParams.set("client_id", client.clientId);
    url.searchParams.set("redirect_uri", REDIRECT_URI);
    url.searchParams.set("response_type", "code");
    url.searchParams.set("scope", "read");
    url.searchParams.set("state", oauth.generateRandomState());
    const browser = new Browser(server.url);
    let page = await browser.follow(url.toString());
    expect(page.response.status).toBe(200);
    for (let i = 0; i < MAX_FAILURES; i++) {
      page = await browser.submit(page, { email, password: `guess ${i}` });
      expect(page.response.status).toBe(401);
    }
    page = await browser.submit(page, { email, password: PASSWORD });
    expect(page.response.status).toBe(429);
    const wait = Number(page.response.headers.get("retry-after"));
    expect(wait).toBeGreaterThanOrEqual(1);
    await sleep(wait);
    page = await browser.submit(page, { email, password: PASSWORD });
    // Signed in: the consent page.
    expect(page.response.status).toBe(200);
    expect(await page.response.text()).toMatch(/decision/);
  });
});

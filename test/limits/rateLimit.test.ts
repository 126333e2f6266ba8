import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { SYNC_MS } from "../../src/limits/syncedStore.ts";
import { testDbKind } from "../helpers/database.ts";
import { type GraphQLResponse, gql } from "../helpers/graphql.ts";
import { freePort, type ServeProcess, startServeProcess } from "../helpers/process.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

const LIMIT = 5;
const ANONYMOUS_LIMIT = 3;
const VIEWER = "{ viewer { member { id } } }";
const INTROSPECTION = "{ __schema { queryType { name } } }";

let server: TestServer;

beforeAll(async () => {
  server = await startServer({
    PLUGBOARD_RATE_LIMIT: String(LIMIT),
    PLUGBOARD_RATE_LIMIT_ANONYMOUS: String(ANONYMOUS_LIMIT),
  });
});
afterAll(async () => server?.close());

function rateHeaders(result: GraphQLResponse) {
  return {
    limit: result.headers.get("ratelimit-limit"),
    remaining: result.headers.get("ratelimit-remaining"),
    reset: Number(result.headers.get("ratelimit-reset")),
  };
}

function expectLimited(result: GraphQLResponse) {
  expect(result.status).toBe(429);
  expect(result.data).toBeUndefined();
  const error = result.errors?.[0];
  expect(error?.extensions?.code).toBe("RATE_LIMITED");
  const retryAfter = Number(result.headers.get("retry-after"));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(error?.extensions?.retryAfter).toBe(retryAfter);
  expect(rateHeaders(result).remaining).toBe("0");
}

describe("rate limits", () => {
  it("counts each credential in its own bucket: headers on every response, 429 when empty", async () => {
    const { token } = await server.createTenant();
    for (let i = 1; i <= LIMIT; i++) {
      const result = await gql(server.graphqlUrl, VIEWER, {}, { token });
      expect(result.status).toBe(200);
      expect(rateHeaders(result)).toMatchObject({ limit: String(LIMIT), remaining: String(LIMIT - i) });
      expect(rateHeaders(result).reset).toBeGreaterThan(0);
    }
    expectLimited(await gql(server.graphqlUrl, VIEWER, {}, { token }));
    // Another credential has its own bucket.
    const other = await server.createTenant();
    expect((await gql(server.graphqlUrl, VIEWER, {}, { token: other.token })).status).toBe(200);
  });

  it("counts requests without a credential per address", async () => {
    for (let i = 0; i < ANONYMOUS_LIMIT; i++) {
      const result = await gql(server.graphqlUrl, INTROSPECTION);
      expect(result.status).toBe(200);
      expect(rateHeaders(result).limit).toBe(String(ANONYMOUS_LIMIT));
    }
    expectLimited(await gql(server.graphqlUrl, INTROSPECTION));
  });

  it("refills: the bucket lets a request through again after Retry-After", async () => {
    // 60 per minute: one request per second refills.
    const fast = await startServer({ PLUGBOARD_RATE_LIMIT: "60" });
    try {
      const results = await Promise.all(
        Array.from({ length: 61 }, () => gql(fast.graphqlUrl, VIEWER, {}, { token: fast.owner.token })),
      );
      const refused = results.filter((r) => r.status === 429);
      expect(refused).toHaveLength(1);
      const wait = Number(refused[0]?.headers.get("retry-after"));
      await new Promise((resolve) => setTimeout(resolve, wait * 1000 + 100));
      expect((await gql(fast.graphqlUrl, VIEWER, {}, { token: fast.owner.token })).status).toBe(200);
    } finally {
      await fast.close();
    }
  }, 60_000); // a second server

  it("keeps counting through a wall-clock step: an hour forward and back again locks nobody out", async () => {
    // NTP may step the clock; buckets measure time on a monotonic clock, not the wall clock.
    const { token } = await server.createTenant();
    expect((await gql(server.graphqlUrl, VIEWER, {}, { token })).status).toBe(200);
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 3_600_000 });
    try {
      expect((await gql(server.graphqlUrl, VIEWER, {}, { token })).status).toBe(200);
    } finally {
      vi.useRealTimers();
    }
    const after = await gql(server.graphqlUrl, VIEWER, {}, { token });
    expect(after.status).toBe(200);
    expect(rateHeaders(after).remaining).toBe(String(LIMIT - 3));
  });
});

describe.runIf(testDbKind === "postgres")("rate limits across processes", () => {
  let second: ServeProcess | undefined;
  afterAll(async () => second?.stop());

  it("a second server process on the same PostgreSQL database takes from the same bucket", async () => {
    second = await startServeProcess(freePort(), {
      DATABASE_URL: server.env.DATABASE_URL ?? "",
      PLUGBOARD_RATE_LIMIT: String(LIMIT),
    });
    const { token } = await server.createTenant();
    const urls = [server.graphqlUrl, `${second.url}/graphql`];
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 2; i++) {
      statuses.push((await gql(urls[i % 2] as string, VIEWER, {}, { token })).status);
      // Every SYNC_MS each process adds what it let through to the shared bucket and reads it back.
      await new Promise((resolve) => setTimeout(resolve, 2 * SYNC_MS + 100));
    }
    expect(statuses).toEqual([...Array(LIMIT).fill(200), 429, 429]);
  });
});

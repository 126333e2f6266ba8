import { serverAudits } from "graphql-http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorCode, gql } from "../helpers/graphql.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

describe("GraphQL over HTTP", () => {
  // The graphql-http audit suite, against the running server (its operations are `{ __typename }`,
  // which needs no credential).
  for (const audit of serverAudits({ url: () => server.graphqlUrl, fetchFn: fetch })) {
    it(`${audit.id} ${audit.name}`, async () => {
      const result = await audit.fn();
      if (result.status === "error") throw new Error(result.reason);
      if (audit.name.startsWith("MUST")) expect(result.status).toBe("ok");
    });
  }

  it("shows GraphiQL to a browser", async () => {
    const response = await fetch(server.graphqlUrl, { headers: { accept: "text/html" } });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("Plugboard");
  });

  it("serves liveness and readiness", async () => {
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready" });
  });

  it("gives GraphQL request errors the BAD_USER_INPUT code", async () => {
    const result = await gql(server.graphqlUrl, "{ viewer { nope } }", {}, { token: server.owner.token });
    expect(result.status).toBe(400);
    expect(errorCode(result)).toBe("BAD_USER_INPUT");
  });

  it("tags every response with a request id", async () => {
    const response = await fetch(`${server.url}/healthz`, { headers: { "x-request-id": "abc-123" } });
    expect(response.headers.get("x-request-id")).toBe("abc-123");
  });
});

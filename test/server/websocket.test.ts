import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

function run(url: string, connectionParams?: Record<string, unknown>) {
  const closes: number[] = [];
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams,
    retryAttempts: 0,
    lazy: true,
    on: { closed: (event) => closes.push((event as { code: number }).code) },
  });
  const result = new Promise<unknown>((resolve, reject) => {
    let value: unknown;
    client.subscribe(
      { query: "{ viewer { member { id } } }" },
      { next: (data) => (value = data), error: reject, complete: () => resolve(value) },
    );
  });
  return { client, result, closes };
}

describe("graphql-ws", () => {
  it("authenticates with a token in connection_init", async () => {
    const { client, result } = run(server.wsUrl, { authorization: `Bearer ${server.owner.token}` });
    expect(await result).toEqual({ data: { viewer: { member: { id: server.owner.memberId } } } });
    await client.dispose();
  });

  it("accepts access_token in the URL", async () => {
    const { client, result } = run(`${server.wsUrl}?access_token=${server.owner.token}`);
    expect(await result).toEqual({ data: { viewer: { member: { id: server.owner.memberId } } } });
    await client.dispose();
  });

  it("closes with 4401 without a credential and 4403 with a bad one", async () => {
    const anonymous = run(server.wsUrl);
    await expect(anonymous.result).rejects.toBeDefined();
    expect(anonymous.closes).toContain(4401);
    const bad = run(server.wsUrl, { authorization: "Bearer pbk_wrong" });
    await expect(bad.result).rejects.toBeDefined();
    expect(bad.closes).toContain(4403);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, api } from "../helpers/api.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { subscribeWs, until } from "../helpers/subscriptions.ts";

let server: TestServer;
let owner: Api;

beforeAll(async () => {
  server = await startServer({
    PLUGBOARD_MAX_SUBSCRIPTIONS: "2",
    PLUGBOARD_MAX_WEBHOOKS: "2",
    PLUGBOARD_WEBHOOK_ALLOW_PRIVATE: "true",
  });
  owner = api(server, server.owner.token);
});
afterAll(async () => server?.close());

describe("caps on long-lived resources", () => {
  it("refuses a credential's subscription past the cap with RATE_LIMITED, until one closes", async () => {
    const open = [subscribeWs(server.wsUrl, owner.token), subscribeWs(server.wsUrl, owner.token)];
    await until(() => server.app.services.subscriptions.size === 2, "two open subscriptions");
    const third = subscribeWs(server.wsUrl, owner.token);
    await until(() => third.errors.length > 0 || third.completed(), "the third subscription's answer");
    const error = third.errors[0] as { message: string; extensions: Record<string, unknown> };
    expect(error.extensions.code).toBe("RATE_LIMITED");
    expect(error.extensions.limit).toBe(2);
    expect(error.message).toMatch(/open subscriptions/);
    // Another credential is not held by this one's cap.
    const tenant = await server.createTenant();
    const other = subscribeWs(server.wsUrl, tenant.token);
    await until(() => server.app.services.subscriptions.size === 3, "the other credential's subscription");
    await open[0]?.dispose();
    await until(() => server.app.services.subscriptions.size === 2, "one closed");
    const again = subscribeWs(server.wsUrl, owner.token);
    await until(() => server.app.services.subscriptions.size === 3, "a subscription in the freed place");
    expect(again.errors).toEqual([]);
    await Promise.all([open[1]?.dispose(), third.dispose(), other.dispose(), again.dispose()]);
  });

  it("refuses a workspace's webhook past the cap with CONFLICT naming the limit", async () => {
    const create = (n: number) =>
      owner.raw(`mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }`, {
        input: { url: `http://127.0.0.1:9/hook${n}` },
      });
    expect((await create(1)).errors).toBeUndefined();
    expect((await create(2)).errors).toBeUndefined();
    const refused = await create(3);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: "CONFLICT", limit: 2 });
    expect(refused.errors?.[0]?.message).toMatch(/2 webhooks/);
  });
});

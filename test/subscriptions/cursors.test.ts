import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "../helpers/server.ts";
import { createContact, headCursor, subscribeWs, until } from "../helpers/subscriptions.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

type WsError = { message?: string; extensions?: Record<string, unknown> };

describe("Subscription.changes(after:)", () => {
  it("refuses a cursor past the head before streaming, naming the head", async () => {
    const head = await headCursor(server.graphqlUrl, server.owner.token);
    const subscription = subscribeWs(server.wsUrl, server.owner.token, { after: "1000" });
    await until(() => subscription.completed(), "the subscription to fail");
    const error = subscription.errors[0] as WsError | WsError[];
    const first = Array.isArray(error) ? error[0] : error;
    expect(first?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "after", headCursor: head });
    expect(first?.message).toBe(
      `after "1000" is past the newest change "${head}" of this workspace; use headCursor.`,
    );
    expect(subscription.received).toEqual([]);
    await subscription.dispose();
  });

  it.each([["abc"], ["-3"], ["1.0"], ["eyJ4IjoxfQ"]])("refuses the forged cursor %j", async (after) => {
    const subscription = subscribeWs(server.wsUrl, server.owner.token, { after });
    await until(() => subscription.completed(), "the subscription to fail");
    const error = subscription.errors[0] as WsError | WsError[];
    const first = Array.isArray(error) ? error[0] : error;
    expect(first?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "after" });
    await subscription.dispose();
  });

  it("accepts the head it was just given and streams what follows", async () => {
    const head = await headCursor(server.graphqlUrl, server.owner.token);
    const subscription = subscribeWs(server.wsUrl, server.owner.token, { after: head });
    const id = await createContact(server.graphqlUrl, server.owner.token, "After Head");
    const [change] = await subscription.waitFor(1);
    expect(subscription.errors).toEqual([]);
    expect(change).toMatchObject({ id: String(Number(head) + 1), resourceId: id });
    // Resuming from the id just received (the freshest numbered one) is never refused either.
    const resumed = subscribeWs(server.wsUrl, server.owner.token, { after: change?.id });
    const next = await createContact(server.graphqlUrl, server.owner.token, "Next");
    expect((await resumed.waitFor(1))[0]?.resourceId).toBe(next);
    expect(resumed.errors).toEqual([]);
    await subscription.dispose();
    await resumed.dispose();
  });
});

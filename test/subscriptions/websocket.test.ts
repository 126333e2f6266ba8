import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "../helpers/server.ts";
import { createContact, feedIds, headCursor, subscribeWs, updateContact } from "../helpers/subscriptions.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

describe("Subscription.changes over graphql-ws", () => {
  it("streams live changes with their field diffs, starting at the head", async () => {
    const start = await headCursor(server.graphqlUrl, server.owner.token);
    const before = await createContact(server.graphqlUrl, server.owner.token, "Before Start");
    // "Before Start" must be numbered before the subscription reads the head: a change committed
    // but not yet numbered (numbering waits for older write transactions anywhere on the
    // PostgreSQL instance) is numbered after the head, and streamed.
    const deadline = Date.now() + 10_000;
    while ((await feedIds(server.graphqlUrl, server.owner.token, start)).length === 0) {
      if (Date.now() > deadline) throw new Error("the change before the subscription was never numbered");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const subscription = subscribeWs(server.wsUrl, server.owner.token);
    // Give the subscription time to start at the head, so "Before Start" is not part of it.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const id = await createContact(server.graphqlUrl, server.owner.token, "Ada Lovelace");
    await updateContact(server.graphqlUrl, server.owner.token, id, { title: "Countess" });
    const received = await subscription.waitFor(2);
    expect(subscription.errors).toEqual([]);
    expect(received.map((c) => c.resourceId)).not.toContain(before);
    expect(received).toHaveLength(2);
    const [created, updated] = received;
    expect(created).toMatchObject({ kind: "CREATED", resourceType: "contact", resourceId: id, version: 1 });
    expect(created?.fields).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: "name", previousValue: null, value: "Ada Lovelace" }),
        expect.objectContaining({ key: "email", value: "ada.lovelace@example.com" }),
      ]),
    );
    expect(updated).toMatchObject({ kind: "UPDATED", resourceId: id, version: 2 });
    expect(updated?.fields).toEqual([
      { key: "title", name: "Title", previousValue: null, value: "Countess" },
    ]);
    expect(Number(updated?.id)).toBe(Number(created?.id) + 1);
    await subscription.dispose();
  });

  it("replays from `after`, then goes live, and resumes across a disconnect without gap or duplicate", async () => {
    const start = await headCursor(server.graphqlUrl, server.owner.token);
    let writing = true;
    let written = 0;
    const writer = (async () => {
      while (writing) {
        await createContact(server.graphqlUrl, server.owner.token, `Writer ${written++}`);
      }
    })();
    const first = subscribeWs(server.wsUrl, server.owner.token, { after: start });
    await first.waitFor(15);
    // What the client processed before disconnecting; anything still in flight is lost to it.
    const firstPart = first.received.slice();
    await first.dispose();
    const lastSeen = firstPart[firstPart.length - 1]?.id as string;
    // Writes continue while disconnected.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const second = subscribeWs(server.wsUrl, server.owner.token, { after: lastSeen });
    await second.waitFor(15);
    writing = false;
    await writer;
    const committed = await feedIds(server.graphqlUrl, server.owner.token, start);
    await second.waitFor(committed.length - firstPart.length);
    await second.dispose();
    const union = [...firstPart, ...second.received].map((c) => c.id);
    expect(union).toEqual(committed);
    expect(new Set(union).size).toBe(union.length);
  });

  it("applies the filter", async () => {
    const id = await createContact(server.graphqlUrl, server.owner.token, "Filtered");
    const subscription = subscribeWs(server.wsUrl, server.owner.token, {
      filter: { kinds: ["UPDATED"], fields: ["title"], resourceIds: [id] },
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await updateContact(server.graphqlUrl, server.owner.token, id, { phone: "+1 555 0100" });
    await createContact(server.graphqlUrl, server.owner.token, "Other");
    await updateContact(server.graphqlUrl, server.owner.token, id, { title: "Dr" });
    const [change] = await subscription.waitFor(1);
    expect(change).toMatchObject({ kind: "UPDATED", resourceId: id });
    expect(change?.fields.map((f) => f.key)).toEqual(["title"]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(subscription.received).toHaveLength(1);
    await subscription.dispose();
  });

  it("refuses a bad filter or cursor before streaming", async () => {
    const badType = subscribeWs(server.wsUrl, server.owner.token, { filter: { types: ["nope"] } });
    await badType.waitFor(1);
    expect(badType.errors).toEqual([
      expect.objectContaining({ extensions: expect.objectContaining({ code: "BAD_USER_INPUT" }) }),
    ]);
    const badCursor = subscribeWs(server.wsUrl, server.owner.token, { after: "x" });
    await badCursor.waitFor(1);
    expect(badCursor.errors).toEqual([
      expect.objectContaining({ extensions: expect.objectContaining({ code: "BAD_USER_INPUT" }) }),
    ]);
    await Promise.all([badType.dispose(), badCursor.dispose()]);
  });
});

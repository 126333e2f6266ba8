import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gqlOk } from "../helpers/graphql.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import {
  createContact,
  headCursor,
  memberWithKey,
  subscribeSse,
  until,
  updateContact,
} from "../helpers/subscriptions.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

describe("Subscription.changes over SSE", () => {
  it("streams replayed and live changes", async () => {
    const start = await headCursor(server.graphqlUrl, server.owner.token);
    const first = await createContact(server.graphqlUrl, server.owner.token, "Sse Replayed");
    const stream = await subscribeSse(server.graphqlUrl, server.owner.token, { after: start });
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get("content-type")).toContain("text/event-stream");
    await updateContact(server.graphqlUrl, server.owner.token, first, { title: "Live" });
    await until(() => stream.changes().length >= 2, "two changes over SSE");
    expect(stream.changes().map((c) => [c.kind, c.resourceId])).toEqual([
      ["CREATED", first],
      ["UPDATED", first],
    ]);
    expect(stream.changes()[1]?.fields).toEqual([
      { key: "title", name: "Title", previousValue: null, value: "Live" },
    ]);
    await stream.close();
  });

  it("answers 401 without a credential", async () => {
    const stream = await subscribeSse(server.graphqlUrl, null);
    expect(stream.response.status).toBe(401);
    await stream.close();
  });

  it("ends the stream with UNAUTHENTICATED when the key is revoked", async () => {
    const { keyId, token } = await memberWithKey(server.graphqlUrl, server.owner.token, "MEMBER");
    const stream = await subscribeSse(server.graphqlUrl, token);
    expect(stream.response.status).toBe(200);
    await gqlOk(
      server.graphqlUrl,
      "mutation ($id: ID!) { revokeApiKey(input: { id: $id }) { apiKey { id } } }",
      { id: keyId },
      { token: server.owner.token },
    );
    await until(stream.ended, "the SSE stream to end", 3_000);
    const errors = stream.events.flatMap((e) => e.data.errors ?? []);
    expect(errors[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    await stream.close();
  });
});

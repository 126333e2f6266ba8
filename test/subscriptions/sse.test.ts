import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gqlOk } from "../helpers/graphql.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import {
  CHANGES,
  createContact,
  headCursor,
  memberWithKey,
  type ReceivedChange,
  until,
  updateContact,
} from "../helpers/subscriptions.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

interface SseEvent {
  event: string;
  data: {
    data?: { changes: ReceivedChange };
    errors?: { message: string; extensions?: { code?: string } }[];
  };
}

/** Opens `changes` over SSE with `fetch`, parsing the event stream as it arrives. */
async function subscribeSse(token: string | null, variables: Record<string, unknown> = {}) {
  const controller = new AbortController();
  const headers: Record<string, string> = { accept: "text/event-stream", "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(server.graphqlUrl, {
    method: "POST",
    headers,
    body: JSON.stringify({ query: CHANGES, variables }),
    signal: controller.signal,
  });
  const events: SseEvent[] = [];
  let ended = false;
  const reading = (async () => {
    if (!response.body) return;
    const decoder = new TextDecoder();
    let buffer = "";
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let boundary = buffer.indexOf("\n\n");
        while (boundary >= 0) {
          const block = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary + 2);
          boundary = buffer.indexOf("\n\n");
          const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (data) events.push({ event, data: JSON.parse(data) });
          else if (event === "complete") events.push({ event, data: {} });
        }
      }
    } catch {
      // aborted by the test
    }
    ended = true;
  })();
  return {
    response,
    events,
    ended: () => ended,
    changes: () => events.flatMap((e) => (e.data.data ? [e.data.data.changes] : [])),
    close: async () => {
      controller.abort();
      await reading;
    },
  };
}

describe("Subscription.changes over SSE", () => {
  it("streams replayed and live changes", async () => {
    const start = await headCursor(server.graphqlUrl, server.owner.token);
    const first = await createContact(server.graphqlUrl, server.owner.token, "Sse Replayed");
    const stream = await subscribeSse(server.owner.token, { after: start });
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
    const stream = await subscribeSse(null);
    expect(stream.response.status).toBe(401);
    await stream.close();
  });

  it("ends the stream with UNAUTHENTICATED when the key is revoked", async () => {
    const { keyId, token } = await memberWithKey(server.graphqlUrl, server.owner.token, "MEMBER");
    const stream = await subscribeSse(token);
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

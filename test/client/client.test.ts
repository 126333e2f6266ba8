import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import {
  AuthenticationError,
  CreateApiKeyDocument,
  CreateOAuthClientDocument,
  createClient,
  NetworkError,
  NotFoundError,
  type PlugboardClient,
  PlugboardError,
  RateLimitError,
  ResourcesDocument,
  RevokeApiKeyDocument,
  ValidationError,
  verifyWebhook,
  WebhookVerificationError,
} from "../../src/client/index.ts";
import { cuttableProxy, flakyProxy } from "../helpers/proxies.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
let client: PlugboardClient;

beforeAll(async () => {
  server = await startServer();
  client = createClient({ url: server.graphqlUrl, token: server.owner.token, webSocketImpl: WebSocket });
});
afterAll(() => server?.close());

describe("typed methods", () => {
  it("reads the viewer, the types and a type's fields", async () => {
    const viewer = await client.viewer();
    expect(viewer.member.role).toBe("OWNER");
    const types = await client.resourceTypes();
    expect(types.map((t) => t.key)).toContain("contact");
    const fields = await client.fields("contact");
    expect(fields.find((f) => f.key === "name")).toMatchObject({ editable: true, system: true });
    expect(fields.find((f) => f.key === "createdAt")).toMatchObject({ editable: false });
    expect(await client.resourceType("no_such_type")).toBeNull();
  });

  it("creates, finds, updates, upserts, copies, assigns, moves, links and deletes", async () => {
    await client.createField({
      resourceType: "contact",
      key: "friends",
      name: "Friends",
      type: "LINKS",
      referenceType: "contact",
    });
    await client.createField({
      resourceType: "contact",
      key: "code",
      name: "Code",
      type: "TEXT",
      unique: true,
    });
    const ada = await client.createResource({
      type: "contact",
      values: { name: "Ada", email: "ada@example.com", code: "ADA" },
    });
    const found = await client.resources({ type: "contact", match: { email: "ada@example.com" } });
    expect(found.nodes.map((n) => n.id)).toEqual([ada.id]);
    expect((await client.resource(ada.id))?.name).toBe("Ada");
    const updated = await client.updateResource({
      id: ada.id,
      values: { name: "Ada L." },
      expectedVersion: 1,
    });
    expect(updated.version).toBe(2);
    const upserted = await client.upsertResource({
      type: "contact",
      matchOn: ["code"],
      values: { code: "ADA", name: "Ada Lovelace" },
    });
    expect(upserted).toMatchObject({ created: false, resource: { id: ada.id } });
    const copy = await client.copyResource({ id: ada.id, values: { code: "COPY" } });
    expect(copy.id).not.toBe(ada.id);
    const linked = await client.linkResources({ id: ada.id, field: "friends", targetIds: [copy.id] });
    expect(linked.values).toMatchObject({ friends: [copy.id] });
    const viewer = await client.viewer();
    const assigned = await client.assignResource({ id: ada.id, memberId: viewer.member.id });
    expect(assigned.assignee?.id).toBe(viewer.member.id);
    const account = await client.createResource({ type: "account", values: { name: "Acme" } });
    const child = await client.createResource({ type: "account", values: { name: "Acme EU" } });
    const moved = await client.moveResource({ id: child.id, parentId: account.id });
    expect(moved.parent?.id).toBe(account.id);
    expect(await client.deleteResource({ id: copy.id })).toBe(copy.id);
    expect(await client.resource(copy.id)).toBeNull();
    const all = [];
    for await (const node of client.allResources({ type: "account", first: 1 })) all.push(node.id);
    expect(all.sort()).toEqual([account.id, child.id].sort());
  });

  it("runs any document with request(), typed by the document", async () => {
    const grace = await client.createResource({ type: "contact", values: { name: "Grace" } });
    const { resources } = await client.request(ResourcesDocument, {
      type: "contact",
      match: { name: "Grace" },
    });
    expect(resources.nodes.map((n) => n.id)).toEqual([grace.id]);
  });
});

describe("typed errors", () => {
  it("throws ValidationError naming the field, NotFoundError and AuthenticationError (401)", async () => {
    const bad = await client.createResource({ type: "contact", values: { email: "x" } }).catch((e) => e);
    expect(bad).toBeInstanceOf(ValidationError);
    expect(bad.code).toBe("BAD_USER_INPUT");
    expect(typeof bad.field).toBe("string");
    const missing = await client.updateResource({ id: "res_missing", values: { name: "x" } }).catch((e) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    const anonymous = createClient({ url: server.graphqlUrl, token: "pbk_wrong" });
    const denied = await anonymous.viewer().catch((e) => e);
    expect(denied).toBeInstanceOf(AuthenticationError);
    expect([denied.code, denied.status]).toEqual(["UNAUTHENTICATED", 401]);
  });

  it("throws NetworkError when nothing answers", async () => {
    const closed = createClient({ url: "http://127.0.0.1:9/graphql", token: "x", retry: { retries: 0 } });
    const error = await closed.viewer().catch((e) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect(error.status).toBe(0);
  });
});

describe("retries", () => {
  it("retries a read after 429, waiting Retry-After", async () => {
    const proxy = await flakyProxy(server, 1, 429, "1");
    try {
      const viaProxy = createClient({ url: proxy.url, token: server.owner.token });
      const started = Date.now();
      expect((await viaProxy.viewer()).member.role).toBe("OWNER");
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
      expect(proxy.seen()).toBe(2);
    } finally {
      await proxy.close();
    }
  });

  it("retries a create (it carries an idempotency key) but not an update after 503", async () => {
    const proxy = await flakyProxy(server, 1, 503, "0");
    try {
      const viaProxy = createClient({ url: proxy.url, token: server.owner.token });
      const created = await viaProxy.createResource({ type: "contact", values: { name: "Retried" } });
      expect(proxy.seen()).toBe(2);
      const found = await client.resources({ type: "contact", match: { name: "Retried" } });
      expect(found.nodes.map((n) => n.id)).toEqual([created.id]);
    } finally {
      await proxy.close();
    }
    const again = await flakyProxy(server, 1, 503, "0");
    try {
      const viaProxy = createClient({ url: again.url, token: server.owner.token });
      const contact = await client.createResource({ type: "contact", values: { name: "Once" } });
      const error = await viaProxy
        .updateResource({ id: contact.id, values: { name: "Twice" } })
        .catch((e) => e);
      expect(error.status).toBe(503);
      expect(again.seen()).toBe(1);
    } finally {
      await again.close();
    }
  });

  it("gives up with RateLimitError carrying retryAfterMs when Retry-After is beyond maxDelayMs", async () => {
    const proxy = await flakyProxy(server, 5, 429, "120");
    try {
      const viaProxy = createClient({
        url: proxy.url,
        token: server.owner.token,
        retry: { maxDelayMs: 1000 },
      });
      const error = await viaProxy.viewer().catch((e) => e);
      expect(error).toBeInstanceOf(RateLimitError);
      expect(error.retryAfterMs).toBe(120_000);
      expect(proxy.seen()).toBe(1);
    } finally {
      await proxy.close();
    }
  });
});

describe("changes()", () => {
  it("yields each change with its cursor, ends at the head with follow: false, and resumes from a stored cursor", async () => {
    const start = (await client.changesPage({ first: 0 })).headCursor;
    const a = await client.createResource({ type: "contact", values: { name: "Feed A" } });
    const b = await client.createResource({ type: "contact", values: { name: "Feed B" } });
    // Both numbered before reading: numbering waits for older write transactions anywhere on the
    // PostgreSQL instance, longer than a mutation waits for it.
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
      if ((await client.changesPage({ after: start })).nodes.length >= 2) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const seen: string[] = [];
    let stored = start;
    for await (const { change, cursor } of client.changes({ after: start, follow: false, pageSize: 1 })) {
      seen.push(change.resourceId);
      stored = cursor;
      break; // a "restart" after the first change, with its cursor stored
    }
    expect(seen).toEqual([a.id]);
    for await (const { change } of client.changes({ after: stored, follow: false }))
      seen.push(change.resourceId);
    expect(seen).toEqual([a.id, b.id]);
    // "0": from the oldest retained change, the workspace's first.
    let oldest: string | undefined;
    for await (const { cursor } of client.changes({ after: "0", follow: false, pageSize: 1 })) {
      oldest = cursor;
      break;
    }
    expect(oldest).toBe("1");
  });

  it("follows: waits at the head and yields what arrives later, until aborted", async () => {
    const controller = new AbortController();
    const iterator = client.changes({
      pollIntervalMs: 50,
      signal: controller.signal,
      filter: { types: ["account"] },
    });
    const received: string[] = [];
    const done = (async () => {
      for await (const { change } of iterator) {
        received.push(change.resourceId);
        controller.abort();
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await client.createResource({ type: "contact", values: { name: "Filtered out" } });
    const account = await client.createResource({ type: "account", values: { name: "Later" } });
    await done;
    expect(received).toEqual([account.id]);
    expect(Number(iterator.cursor)).toBeGreaterThan(0);
  });
});

describe("subscribe()", () => {
  it("pushes changes over graphql-ws from a cursor, with the `ws` package when Node has no WebSocket", async () => {
    // No webSocketImpl: on Node 20 (no global WebSocket) the client loads `ws` by itself.
    const plain = createClient({ url: server.graphqlUrl, token: server.owner.token });
    const start = (await client.changesPage({ first: 0 })).headCursor;
    const before = await client.createResource({ type: "contact", values: { name: "Before subscribing" } });
    const controller = new AbortController();
    const received: string[] = [];
    const done = (async () => {
      for await (const { change } of plain.subscribe({ after: start, signal: controller.signal })) {
        received.push(change.resourceId);
        if (received.length === 2) controller.abort();
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const after = await client.createResource({ type: "contact", values: { name: "While subscribed" } });
    await done;
    expect(received).toEqual([before.id, after.id]);
  });
});

describe("verifyWebhook", () => {
  const secret = `whsec_${Buffer.from("k".repeat(32)).toString("base64")}`;
  const body = JSON.stringify({
    type: "contact.created",
    timestamp: "t",
    webhookId: "wh_1",
    data: { id: "1" },
  });
  function signed(at: Date) {
    const signature = new Webhook(secret).sign("msg_1", at, body);
    return {
      "webhook-id": "msg_1",
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": signature,
    };
  }

  it("accepts what the standardwebhooks library signs, and returns the event with its id", () => {
    const event = verifyWebhook(secret, body, signed(new Date()));
    expect(event).toMatchObject({ id: "msg_1", type: "contact.created", data: { id: "1" } });
    expect(verifyWebhook(secret, Buffer.from(body), new Headers(signed(new Date()))).id).toBe("msg_1");
  });

  it("refuses a tampered body, another secret, an old timestamp and missing headers", () => {
    const reason = (fn: () => unknown) => {
      try {
        fn();
        return "accepted";
      } catch (e) {
        return e instanceof WebhookVerificationError ? e.reason : String(e);
      }
    };
    const headers = signed(new Date());
    expect(reason(() => verifyWebhook(secret, body.replace("1", "2"), headers))).toBe("INVALID_SIGNATURE");
    const other = `whsec_${Buffer.from("o".repeat(32)).toString("base64")}`;
    expect(reason(() => verifyWebhook(other, body, headers))).toBe("INVALID_SIGNATURE");
    const old = signed(new Date(Date.now() - 10 * 60_000));
    expect(reason(() => verifyWebhook(secret, body, old))).toBe("TIMESTAMP_TOO_OLD");
    const future = signed(new Date(Date.now() + 10 * 60_000));
    expect(reason(() => verifyWebhook(secret, body, future))).toBe("TIMESTAMP_IN_FUTURE");
    expect(reason(() => verifyWebhook(secret, body, { "webhook-id": "msg_1" }))).toBe("MISSING_HEADERS");
  });
});

describe("files", () => {
  it("uploads by the multipart spec and downloads with the credential", async () => {
    await client.createField({ resourceType: "account", key: "logo", name: "Logo", type: "FILE" });
    const account = await client.createResource({ type: "account", values: { name: "With logo" } });
    const uploaded = await client.uploadFile(new Blob(["logo bytes"], { type: "text/plain" }), {
      name: "logo.txt",
      resourceId: account.id,
      field: "logo",
    });
    expect(uploaded.file).toMatchObject({ name: "logo.txt", size: 10 });
    expect(uploaded.resource?.values).toMatchObject({ logo: [uploaded.file.id] });
    const response = await client.downloadFile(uploaded.file.id);
    expect(await response.text()).toBe("logo bytes");
    const ranged = await client.downloadFile(uploaded.file.id, { range: "bytes=0-3" });
    expect([ranged.status, await ranged.text()]).toEqual([206, "logo"]);
    const missing = await client.downloadFile("file_missing").catch((e) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
  });
});

describe("OAuth client credentials", () => {
  it("fetches a token once, reuses it, and acts as the client's service member", async () => {
    const { createOAuthClient } = await client.request(CreateOAuthClientDocument, {
      input: { name: "Kit", confidential: true, redirectUris: ["http://127.0.0.1:9/cb"] },
    });
    let tokenRequests = 0;
    const issued: string[] = [];
    const oauthClient = createClient({
      url: server.graphqlUrl,
      oauth: {
        tokenUrl: `${server.url}/oauth/token`,
        clientId: createOAuthClient.oauthClient.clientId,
        clientSecret: createOAuthClient.clientSecret ?? "",
        scope: "read",
      },
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        if (String(input).endsWith("/oauth/token")) {
          tokenRequests++;
          issued.push(((await response.clone().json()) as { access_token: string }).access_token);
        }
        return response;
      },
    });
    const [one, two] = await Promise.all([oauthClient.viewer(), oauthClient.viewer()]);
    expect(one.scopes).toEqual(["READ"]);
    expect(two.member.email).toBe(`${createOAuthClient.oauthClient.clientId}@oauth-clients.invalid`);
    await oauthClient.resourceTypes();
    expect(tokenRequests).toBe(1);
    // Revoked behind the client's back: the next call gets a 401, fetches a new token and succeeds.
    const secret = createOAuthClient.clientSecret ?? "";
    const revoked = await fetch(`${server.url}/oauth/token/revocation`, {
      method: "POST",
      headers: {
        authorization: `Basic ${btoa(`${createOAuthClient.oauthClient.clientId}:${secret}`)}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({ token: issued[0] ?? "", token_type_hint: "access_token" }),
    });
    expect(revoked.status).toBe(200);
    expect((await oauthClient.viewer()).scopes).toEqual(["READ"]);
    expect(tokenRequests).toBe(2);
    expect(issued[1]).not.toBe(issued[0]);
    // 3,541 s later (the token lives 3,600 s): renewed before it expires, without a 401 first.
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 3_541_000 });
    try {
      expect((await oauthClient.viewer()).scopes).toEqual(["READ"]);
      expect(tokenRequests).toBe(3);
    } finally {
      vi.useRealTimers();
    }
    const wrong = createClient({
      url: server.graphqlUrl,
      oauth: { tokenUrl: `${server.url}/oauth/token`, clientId: "nope", clientSecret: "nope" },
    });
    expect(await wrong.viewer().catch((e) => e)).toBeInstanceOf(AuthenticationError);
  });
});

describe("subscribe() when the credential is revoked", () => {
  it("ends with a typed error instead of reconnecting forever", async () => {
    const { createApiKey } = await client.request(CreateApiKeyDocument, { input: { name: "doomed" } });
    const doomed = createClient({
      url: server.graphqlUrl,
      token: createApiKey.token,
      webSocketImpl: WebSocket,
    });
    const received: string[] = [];
    const ended = (async () => {
      for await (const { change } of doomed.subscribe({ filter: { types: ["task"] } })) {
        received.push(change.resourceId);
      }
    })().then(
      () => "completed",
      (error: unknown) => error,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const task = await client.createResource({
      type: "task",
      values: { name: "seen before the revocation" },
    });
    const deadline = Date.now() + 10_000;
    while (received.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await client.request(RevokeApiKeyDocument, { input: { id: createApiKey.apiKey.id } });
    const outcome = await ended;
    expect(received).toEqual([task.id]);
    expect(outcome).toBeInstanceOf(PlugboardError);
    expect(["FORBIDDEN", "UNAUTHENTICATED"]).toContain((outcome as PlugboardError).code);
  });
});

describe("subscribe() across a disconnect", () => {
  it("reconnects and resumes after the last change received: nothing lost, nothing twice", async () => {
    const proxy = await cuttableProxy(new URL(server.url));
    const viaProxy = createClient({
      url: server.graphqlUrl,
      wsUrl: `ws://127.0.0.1:${proxy.port}/graphql`,
      token: server.owner.token,
      webSocketImpl: WebSocket,
      retry: { baseDelayMs: 50 },
    });
    const controller = new AbortController();
    const received: string[] = [];
    const done = (async () => {
      const stream = viaProxy.subscribe({ signal: controller.signal, filter: { types: ["task"] } });
      for await (const { change } of stream) {
        received.push(change.resourceId);
        if (received.length === 3) controller.abort();
      }
    })();
    const until = async (count: number) => {
      const deadline = Date.now() + 10_000;
      while (received.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    };
    await new Promise((resolve) => setTimeout(resolve, 300));
    const one = await client.createResource({ type: "task", values: { name: "one" } });
    await until(1);
    proxy.cut();
    // Made while the stream is down: replayed on reconnect, from the last id received.
    const two = await client.createResource({ type: "task", values: { name: "two" } });
    const three = await client.createResource({ type: "task", values: { name: "three" } });
    await done;
    await proxy.close();
    expect(received).toEqual([one.id, two.id, three.id]);
  });
});

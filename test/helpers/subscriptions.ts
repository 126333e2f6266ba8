import { type Client, createClient } from "graphql-ws";
import WebSocket from "ws";
import { gqlOk } from "./graphql.ts";

export const CHANGES = `subscription ($filter: ChangeFilter, $after: String) {
  changes(filter: $filter, after: $after) {
    id kind resourceType resourceId version snapshot
    fields { key name previousValue value }
  }
}`;

export interface ReceivedChange {
  id: string;
  kind: string;
  resourceType: string;
  resourceId: string;
  version: number;
  snapshot: Record<string, unknown>;
  fields: { key: string; name: string; previousValue: unknown; value: unknown }[];
}

/** Resolves when `condition` holds, polling; fails after `timeoutMs` with `what`. */
export async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface WsSubscription {
  client: Client;
  received: ReceivedChange[];
  errors: unknown[];
  closes: number[];
  completed: () => boolean;
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedChange[]>;
  dispose(): Promise<void>;
}

/** Subscribes to `changes` with the real graphql-ws client, collecting what arrives. */
export function subscribeWs(
  wsUrl: string,
  token: string | null,
  variables: Record<string, unknown> = {},
): WsSubscription {
  const received: ReceivedChange[] = [];
  const errors: unknown[] = [];
  const closes: number[] = [];
  let done = false;
  const client = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    on: { closed: (event) => closes.push((event as { code: number }).code) },
  });
  client.subscribe<{ changes: ReceivedChange }>(
    { query: CHANGES, variables },
    {
      next: (result) => {
        if (result.errors) errors.push(...result.errors);
        if (result.data) received.push(result.data.changes);
      },
      error: (error) => {
        errors.push(error);
        done = true;
      },
      complete: () => {
        done = true;
      },
    },
  );
  return {
    client,
    received,
    errors,
    closes,
    completed: () => done,
    async waitFor(count, timeoutMs = 10_000) {
      await until(
        () => received.length >= count || done,
        `${count} changes (got ${received.length})`,
        timeoutMs,
      );
      return received;
    },
    dispose: () => client.dispose() as Promise<void>,
  };
}

/** Creates a contact through the API, as a client would; returns its id. */
export async function createContact(graphqlUrl: string, token: string, name: string): Promise<string> {
  const data = await gqlOk<{ createResource: { resource: { id: string } } }>(
    graphqlUrl,
    `mutation ($values: JSON) { createResource(input: { type: "contact", values: $values }) { resource { id } } }`,
    { values: { name, email: `${name.toLowerCase().replace(/\W+/g, ".")}@example.com` } },
    { token },
  );
  return data.createResource.resource.id;
}

export async function updateContact(
  graphqlUrl: string,
  token: string,
  id: string,
  values: Record<string, unknown>,
): Promise<void> {
  await gqlOk(
    graphqlUrl,
    `mutation ($id: ID!, $values: JSON) { updateResource(input: { id: $id, values: $values }) { resource { id } } }`,
    { id, values },
    { token },
  );
}

/** The committed changes of the workspace after `after`, as the feed gives them (ids only). */
export async function feedIds(
  graphqlUrl: string,
  token: string,
  after: string | null = null,
): Promise<string[]> {
  const ids: string[] = [];
  let cursor = after;
  for (;;) {
    const data = await gqlOk<{
      changes: { nodes: { id: string }[]; pageInfo: { endCursor: string | null; hasNextPage: boolean } };
    }>(
      graphqlUrl,
      "query ($after: String) { changes(after: $after, first: 1000) { nodes { id } pageInfo { endCursor hasNextPage } } }",
      { after: cursor },
      { token },
    );
    ids.push(...data.changes.nodes.map((n) => n.id));
    if (!data.changes.pageInfo.hasNextPage) return ids;
    cursor = data.changes.pageInfo.endCursor;
  }
}

export async function headCursor(graphqlUrl: string, token: string): Promise<string> {
  const data = await gqlOk<{ changes: { headCursor: string } }>(
    graphqlUrl,
    "{ changes(first: 0) { headCursor } }",
    {},
    { token },
  );
  return data.changes.headCursor;
}

/** A new member with the given role and an API key of theirs (issued by the owner). */
export async function memberWithKey(
  graphqlUrl: string,
  ownerToken: string,
  role: "ADMIN" | "MEMBER" | "VIEWER",
): Promise<{ memberId: string; keyId: string; token: string }> {
  const email = `${role.toLowerCase()}.${Math.random().toString(36).slice(2)}@example.com`;
  const member = await gqlOk<{ createMember: { member: { id: string } } }>(
    graphqlUrl,
    "mutation ($email: String!, $role: Role!) { createMember(input: { email: $email, role: $role }) { member { id } } }",
    { email, role },
    { token: ownerToken },
  );
  const memberId = member.createMember.member.id;
  const key = await gqlOk<{ createApiKey: { apiKey: { id: string }; token: string } }>(
    graphqlUrl,
    `mutation ($memberId: ID) { createApiKey(input: { name: "sub", memberId: $memberId }) { apiKey { id } token } }`,
    { memberId },
    { token: ownerToken },
  );
  return { memberId, keyId: key.createApiKey.apiKey.id, token: key.createApiKey.token };
}

export interface SseEvent {
  event: string;
  data: {
    data?: { changes: ReceivedChange };
    errors?: { message: string; extensions?: { code?: string } }[];
  };
}

/** Opens `changes` over SSE with `fetch`, parsing the event stream as it arrives. */
export async function subscribeSse(
  graphqlUrl: string,
  token: string | null,
  variables: Record<string, unknown> = {},
  authorization = token ? `Bearer ${token}` : null,
) {
  const controller = new AbortController();
  const headers: Record<string, string> = { accept: "text/event-stream", "content-type": "application/json" };
  if (authorization) headers.authorization = authorization;
  const response = await fetch(graphqlUrl, {
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

export interface OpenSocket {
  /** Runs one query or mutation over the socket: its result, or the error graphql-ws reports. */
  run(query: string, variables?: Record<string, unknown>): Promise<{ data?: unknown; errors?: unknown[] }>;
  /** Close codes seen so far. */
  closes: number[];
  dispose(): Promise<void>;
}

/** One graphql-ws connection kept open across operations, as a long-running connector keeps it. */
export function openSocket(wsUrl: string, connectionParams: Record<string, unknown>): OpenSocket {
  const closes: number[] = [];
  const client = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams,
    retryAttempts: 0,
    lazy: false,
    // The close is what the tests look at (`closes`); graphql-ws would also print it.
    onNonLazyError: () => {},
    on: { closed: (event) => closes.push((event as { code: number }).code) },
  });
  return {
    closes,
    run: (query, variables = {}) =>
      new Promise((resolve, reject) => {
        let result: { data?: unknown; errors?: unknown[] } = {};
        client.subscribe(
          { query, variables },
          {
            next: (value) => {
              result = value as typeof result;
            },
            error: (error) => (Array.isArray(error) ? resolve({ errors: error }) : reject(error)),
            complete: () => resolve(result),
          },
        );
      }),
    dispose: () => client.dispose() as Promise<void>,
  };
}

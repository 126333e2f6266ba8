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

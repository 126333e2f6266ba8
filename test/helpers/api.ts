import { randomBytes } from "node:crypto";
import { type GraphQLResponse, gql, gqlOk } from "./graphql.ts";
import type { TestServer } from "./server.ts";

// biome-ignore lint/suspicious/noExplicitAny: test responses are read loosely and asserted on.
export type Data = any;

export interface Api {
  token: string;
  ok(query: string, variables?: Record<string, unknown>): Promise<Data>;
  raw(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<Data>>;
}

export function api(server: TestServer, token: string): Api {
  return {
    token,
    ok: (query, variables = {}) => gqlOk<Data>(server.graphqlUrl, query, variables, { token }),
    raw: (query, variables = {}) => gql<Data>(server.graphqlUrl, query, variables, { token }),
  };
}

/** A new member of the owner's workspace with a key of their own. */
export async function memberApi(
  server: TestServer,
  owner: Api,
  role: "ADMIN" | "MEMBER" | "VIEWER",
  scopes?: string[],
): Promise<Api & { memberId: string }> {
  const email = `${role.toLowerCase()}-${randomBytes(4).toString("hex")}@example.com`;
  const created = await owner.ok(
    `mutation($email: String!, $role: Role!) { createMember(input: { email: $email, role: $role }) { member { id } } }`,
    {
      email,
      role,
    },
  );
  const memberId = created.createMember.member.id as string;
  const key = await owner.ok(
    `mutation($memberId: ID!, $scopes: [Scope!]) { createApiKey(input: { name: "test", memberId: $memberId, scopes: $scopes }) { token } }`,
    { memberId, scopes: scopes ?? null },
  );
  return { ...api(server, key.createApiKey.token), memberId };
}

export const CREATE = `mutation($type: String!, $values: JSON, $key: String) {
  createResource(input: { type: $type, values: $values, idempotencyKey: $key }) { resource { id name values version typeKey } }
}`;
export const UPDATE = `mutation($id: ID!, $values: JSON, $v: Int) {
  updateResource(input: { id: $id, values: $values, expectedVersion: $v }) { resource { id name values version } }
}`;

export async function createResource(
  client: Api,
  type: string,
  values: Record<string, unknown>,
): Promise<Data> {
  const data = await client.ok(CREATE, { type, values });
  return data.createResource.resource;
}

export function firstError(result: GraphQLResponse<Data>): {
  code?: unknown;
  field?: unknown;
  message?: string;
} {
  const error = result.errors?.[0];
  return { code: error?.extensions?.code, field: error?.extensions?.field, message: error?.message };
}

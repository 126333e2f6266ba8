export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  data: T | null | undefined;
  errors: { message: string; path?: unknown[]; extensions?: Record<string, unknown> }[] | undefined;
}

export interface RequestOptions {
  token?: string | null;
  headers?: Record<string, string>;
}

/** POSTs one GraphQL operation with `fetch`, as any HTTP client would. */
export async function gql<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  options: RequestOptions = {},
): Promise<GraphQLResponse<T>> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/graphql-response+json, application/json",
    ...options.headers,
  };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(url, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  const body = (await response.json()) as { data?: T | null; errors?: GraphQLResponse["errors"] };
  return { status: response.status, headers: response.headers, data: body.data, errors: body.errors };
}

/** The data of an operation that must succeed; throws with the errors otherwise. */
export async function gqlOk<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  options: RequestOptions = {},
): Promise<T> {
  const result = await gql<T>(url, query, variables, options);
  if (result.errors?.length || !result.data) {
    throw new Error(`GraphQL failed (${result.status}): ${JSON.stringify(result.errors)}`);
  }
  return result.data;
}

export function errorCode(result: GraphQLResponse): unknown {
  return result.errors?.[0]?.extensions?.code;
}

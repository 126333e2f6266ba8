import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";

export * from "./generated.ts";

/** A GraphQL error as the server sends it; `code` is one of the closed list in docs/errors-and-limits.md. */
export class PlugboardError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly status: number,
    readonly extensions: Record<string, unknown>,
  ) {
    super(message);
    this.name = "PlugboardError";
  }
}

export interface PlugboardClientOptions {
  /** The GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql */
  url: string;
  /** An API key or OAuth access token, sent as `Authorization: Bearer`. */
  token?: string;
  fetch?: typeof fetch;
}

/**
 * The thin typed client for connector code: `request(ViewerDocument)` returns `ViewerQuery`, and
 * the variables are checked against the operation. Errors throw `PlugboardError` with their code.
 */
export function createPlugboardClient(options: PlugboardClientOptions) {
  const fetchFn = options.fetch ?? fetch;
  const printed = new WeakMap<object, string>();
  return {
    async request<TResult, TVariables extends Record<string, unknown>>(
      document: TypedDocumentNode<TResult, TVariables>,
      ...[variables]: TVariables extends Record<string, never> ? [TVariables?] : [TVariables]
    ): Promise<TResult> {
      let query = printed.get(document);
      if (!query) {
        query = print(document);
        printed.set(document, query);
      }
      const headers: Record<string, string> = {
        "content-type": "application/json",
        accept: "application/graphql-response+json, application/json",
      };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      const response = await fetchFn(options.url, {
        method: "POST",
        headers,
        body: JSON.stringify({ query, variables: variables ?? {} }),
      });
      const body = (await response.json()) as {
        data?: TResult | null;
        errors?: { message: string; extensions?: Record<string, unknown> }[];
      };
      const [error] = body.errors ?? [];
      if (error) {
        const extensions = error.extensions ?? {};
        throw new PlugboardError(
          error.message,
          extensions.code as string | undefined,
          response.status,
          extensions,
        );
      }
      if (!body.data) throw new PlugboardError("Empty response", undefined, response.status, {});
      return body.data;
    },
  };
}

export type PlugboardClient = ReturnType<typeof createPlugboardClient>;

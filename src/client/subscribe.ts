import { print } from "graphql";
import { createClient as createWsClient } from "graphql-ws";
import { errorFrom, type GraphQLErrorBody, PlugboardError } from "./errors.ts";
import {
  type ChangeFilter,
  ChangeStreamDocument,
  type ChangeStreamSubscription,
  ChangesDocument,
} from "./generated.ts";
import { backoffMs, execute, sleep, type Transport } from "./transport.ts";

export type StreamedChange = ChangeStreamSubscription["changes"];

export interface SubscribeOptions {
  /** Start just after this cursor (a stored `cursor`); absent: from now. */
  after?: string | null;
  filter?: ChangeFilter;
  /** Stop reconnecting and end the iteration. */
  signal?: AbortSignal;
  /** Reconnect attempts in a row before giving up (default Infinity: a trigger runs for as long as it is on). */
  reconnectAttempts?: number;
}

/** A WebSocket constructor: the browser's, undici's global one (Node 22+) or the `ws` package's. */
export type WebSocketImpl = unknown;

/** Node 20 has no global WebSocket: fall back to the `ws` package when it is installed. */
async function defaultWebSocket(): Promise<WebSocketImpl> {
  const global = (globalThis as { WebSocket?: unknown }).WebSocket;
  if (global) return global;
  try {
    const ws = (await import("ws")) as { default?: unknown; WebSocket?: unknown };
    return ws.default ?? ws.WebSocket;
  } catch (cause) {
    throw new PlugboardError(
      "No WebSocket implementation: pass `webSocketImpl` (e.g. from the `ws` package) to createClient.",
      undefined,
      0,
      {},
      [],
      { cause },
    );
  }
}

function closeCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

/** graphql-ws close codes 4400–4499 (bad request, unauthorised, forbidden…) will not heal by reconnecting. */
function isFatal(error: unknown): boolean {
  if (Array.isArray(error)) return true; // GraphQL errors of the operation itself
  const code = closeCode(error);
  return code !== undefined && code >= 4400 && code < 4500 && code !== 4499;
}

function toError(error: unknown): PlugboardError {
  if (Array.isArray(error)) return errorFrom(200, error as GraphQLErrorBody[], "Subscription failed");
  const code = closeCode(error);
  const reason = String((error as { reason?: unknown }).reason ?? "");
  if (code === 4401) return errorFrom(401, [], `Connection closed: ${reason || "unauthorized"}`);
  if (code === 4403) {
    return errorFrom(403, [{ message: reason || "Forbidden", extensions: { code: "FORBIDDEN" } }], "");
  }
  if (code !== undefined) return new PlugboardError(`Connection closed (${code}): ${reason}`, undefined, 0);
  return new PlugboardError(`Subscription failed: ${String(error)}`, "NETWORK_ERROR", 0);
}

/**
 * `changes` over graphql-ws, resumed after every disconnect from the last change received, so the
 * caller sees each change at least once and in order. Without `after`, the head cursor is read
 * first over HTTP, so even a disconnect before the first change loses nothing.
 */
export async function* subscribeChanges(
  t: Transport,
  wsUrl: string,
  webSocketImpl: WebSocketImpl | undefined,
  options: SubscribeOptions = {},
): AsyncGenerator<{ change: StreamedChange; cursor: string }> {
  const impl = webSocketImpl ?? (await defaultWebSocket());
  let after = options.after ?? (await execute(t, ChangesDocument, { first: 0 })).changes.headCursor;
  let failures = 0;
  let renewed = false;
  const limit = options.reconnectAttempts ?? Number.POSITIVE_INFINITY;
  while (!options.signal?.aborted) {
    const client = createWsClient({
      url: wsUrl,
      webSocketImpl: impl,
      retryAttempts: 0,
      lazy: true,
      connectionParams: async () => {
        const token = await t.tokens.token();
        return token ? { authorization: `Bearer ${token}` } : {};
      },
    });
    const stop = () => void client.dispose();
    options.signal?.addEventListener("abort", stop, { once: true });
    try {
      const results = client.iterate<ChangeStreamSubscription>({
        query: print(ChangeStreamDocument),
        variables: { after, filter: options.filter },
      });
      for await (const result of results) {
        if (result.errors?.length) throw result.errors;
        const change = result.data?.changes;
        if (!change) continue;
        failures = 0;
        after = change.id;
        yield { change, cursor: change.id };
      }
      return; // the server completed the stream
    } catch (error) {
      if (options.signal?.aborted) return;
      const code = closeCode(error);
      // An expired OAuth token closes with 4401/4403: a fresh token may be all it takes.
      if ((code === 4401 || code === 4403) && !renewed) {
        renewed = true;
        const before = await t.tokens.token();
        t.tokens.invalidate();
        if ((await t.tokens.token()) !== before) continue;
      }
      if (isFatal(error) || ++failures > limit) throw toError(error);
      await sleep(backoffMs(failures, t.retry), options.signal);
    } finally {
      options.signal?.removeEventListener("abort", stop);
      await client.dispose();
    }
  }
}

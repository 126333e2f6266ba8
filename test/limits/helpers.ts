import { createClient } from "graphql-ws";
import WebSocket from "ws";

/** Subscribes over WebSocket with the real graphql-ws client; resolves with the errors it got. */
export function subscribeWsQuery(wsUrl: string, token: string, query: string): Promise<unknown[]> {
  const client = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
  const errors: unknown[] = [];
  return new Promise((resolve) => {
    client.subscribe(
      { query },
      {
        next: (result) => {
          if (result.errors) errors.push(...result.errors);
        },
        error: (error) => {
          void client.dispose();
          resolve([...errors, ...(Array.isArray(error) ? error : [error])]);
        },
        complete: () => {
          void client.dispose();
          resolve(errors);
        },
      },
    );
  });
}

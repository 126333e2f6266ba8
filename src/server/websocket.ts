import type { IncomingMessage, Server } from "node:http";
import type { ExecutionArgs, GraphQLError } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import type { YogaServerInstance } from "graphql-yoga";
import type { Logger } from "pino";
import { WebSocketServer } from "ws";
import type { Actor } from "../auth/index.ts";
import { type PresentedCredential, readCredential } from "../auth/index.ts";
import type { Context } from "../kernel/index.ts";
import { AppError, fail } from "../kernel/index.ts";
import type { CredentialHolder } from "../subscriptions/index.ts";
import type { Services } from "./services.ts";

/** What Yoga's envelope is given for a WebSocket operation (see `ServerContext` in app.ts). */
export interface WebSocketServerContext {
  req: import("node:http").IncomingMessage;
  /** The operation's actor, authenticated for this operation. */
  wsActor: Actor;
  params: unknown;
}

/** A connection's credential as presented at `connection_init`, re-checked for every operation. */
type SocketExtra = {
  credential?: PresentedCredential;
  stopWatching?: () => void;
};

const CLOSE_FORBIDDEN = 4403;
/** A locked email or address (HTTP's 429); the reason says when to retry. */
const CLOSE_TOO_MANY = 4429;
const FORBIDDEN_REASON = "Forbidden: the credential is invalid, expired or revoked";

/**
 * graphql-ws on `/graphql`. The credential is read at `connection_init` (4401 without one, 4403
 * with a bad one) and then authorized again for every operation, exactly as an HTTP request is: a
 * key revoked, a role lowered, a member removed or an OAuth token revoked applies to the next
 * operation on an open socket. While it is open the connection is also watched like a subscription
 * stream, so a credential that stops working closes it with 4403 at once, with or without traffic.
 */
export function attachWebSocket(
  server: Server,
  // biome-ignore lint/suspicious/noExplicitAny: Yoga's instance type is generic over its contexts.
  yoga: YogaServerInstance<any, Context>,
  services: Services,
  logger: Logger,
) {
  const wsServer = new WebSocketServer({ server, path: "/graphql" });

  /** The credential's actor now, or null after closing the socket with 4403. */
  async function authorize(
    extra: SocketExtra & { socket: { close(code: number, reason: string): void }; request: IncomingMessage },
  ) {
    const credential = extra.credential;
    if (!credential) return null;
    try {
      if (credential.kind !== "password") return await services.auth.authenticate(credential);
      // Wrong passwords are counted per email and address, as over HTTP (src/limits/bruteForce.ts).
      const address = extra.request.socket.remoteAddress ?? "";
      return await services.limits.logins.guard(credential.email, address, () =>
        services.auth.authenticate(credential),
      );
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      if (error.code === "RATE_LIMITED") extra.socket.close(CLOSE_TOO_MANY, error.message);
      else extra.socket.close(CLOSE_FORBIDDEN, FORBIDDEN_REASON);
      return null;
    }
  }

  const handle = useServer<Record<string, unknown> | undefined, SocketExtra>(
    {
      onConnect: async (ctx) => {
        const headers = new Headers();
        const authorization = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        if (typeof authorization === "string") headers.set("authorization", authorization);
        const apiKey = ctx.connectionParams?.["x-api-key"] ?? ctx.connectionParams?.apiKey;
        if (typeof apiKey === "string") headers.set("x-api-key", apiKey);
        const credential = readCredential(headers, ctx.extra.request.url ?? "/");
        if (!credential) {
          ctx.extra.socket.close(4401, "Unauthorized: send a token in connection_init");
          return false;
        }
        if (credential === "malformed") {
          ctx.extra.socket.close(CLOSE_FORBIDDEN, FORBIDDEN_REASON);
          return false;
        }
        ctx.extra.credential = credential;
        let actor: Actor | null;
        try {
          actor = await authorize(ctx.extra);
        } catch (error) {
          logger.error({ err: error }, "websocket authentication failed");
          ctx.extra.socket.close(CLOSE_FORBIDDEN, FORBIDDEN_REASON);
          return false;
        }
        if (!actor) return false;
        const holder: CredentialHolder & { actor: Actor } = {
          actor,
          updateActor: (current) => {
            holder.actor = current;
          },
          revoke: () => ctx.extra.socket.close(CLOSE_FORBIDDEN, FORBIDDEN_REASON),
        };
        ctx.extra.stopWatching = services.subscriptions.watchCredential(holder);
        return true;
      },
      onClose: (ctx) => {
        ctx.extra.stopWatching?.();
      },
      onSubscribe: async (ctx, _id, params): Promise<ExecutionArgs | readonly GraphQLError[]> => {
        const actor = await authorize(ctx.extra);
        if (!actor) return [fail.unauthenticated(FORBIDDEN_REASON, true)];
        const context: WebSocketServerContext = { req: ctx.extra.request, wsActor: actor, params };
        const enveloped = yoga.getEnveloped(context);
        const document = enveloped.parse(params.query);
        const errors = enveloped.validate(enveloped.schema, document);
        if (errors.length > 0) return errors;
        const contextValue = (await enveloped.contextFactory()) as unknown as Context;
        contextValue.closeConnection = (code, reason) => ctx.extra.socket.close(code, reason);
        return {
          schema: enveloped.schema,
          operationName: params.operationName ?? null,
          document,
          variableValues: params.variables ?? null,
          contextValue,
          rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe },
        };
      },
      execute: (args) => (args.rootValue as { execute: typeof import("graphql").execute }).execute(args),
      subscribe: (args) =>
        (args.rootValue as { subscribe: typeof import("graphql").subscribe }).subscribe(args),
    },
    wsServer,
  );

  return {
    async close(): Promise<void> {
      await handle.dispose();
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
    },
  };
}

import type { IncomingMessage, ServerResponse } from "node:http";
import type Provider from "oidc-provider";
import type { Logger } from "pino";
import type { Db } from "../kernel/index.ts";
import type { LoginThrottle } from "../limits/index.ts";
import { handleInteraction } from "./interactions.ts";
import { loadOrCreateOAuthKeys } from "./keys.ts";

export const OAUTH_MOUNT = "/oauth";

/** RFC 8414 metadata locations; both answer with the provider's discovery document. */
const METADATA_PATHS = new Set([
  "/.well-known/oauth-authorization-server",
  `/.well-known/oauth-authorization-server${OAUTH_MOUNT}`,
]);

export interface OAuthServerOptions {
  db: Db;
  logger: Logger;
  /** The public base URL; a function because with PORT=0 it is known only once listening. */
  publicUrl: () => string;
  /** Called when tokens are revoked, so verified-token caches forget them at once. */
  onRevoked: () => void;
  /** Brakes password guessing on the login form (src/limits/bruteForce.ts). */
  logins: LoginThrottle;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * The authorization server at `/oauth`, on the app's own `node:http` server. The provider is built
 * on first use, from keys kept in the database, so every process serves the same issuer and keys.
 */
export function createOAuthServer({ db, logger, publicUrl, onRevoked, logins }: OAuthServerOptions) {
  let ready: Promise<{ provider: Provider; callback: Handler; csrfSecret: string }> | undefined;

  function load() {
    ready ??= (async () => {
      // Imported on first use: oidc-provider (Koa, jose) would slow every CLI command's start.
      const { createProvider } = await import("./provider.ts");
      const keys = await loadOrCreateOAuthKeys(db);
      const provider = createProvider(db, `${publicUrl()}${OAUTH_MOUNT}`, keys);
      provider.on("server_error", (_ctx, error) => logger.error({ err: error }, "oauth server error"));
      provider.on("grant.revoked", onRevoked);
      provider.on("access_token.destroyed", onRevoked);
      provider.on("client_credentials.destroyed", onRevoked);
      const callback = provider.callback() as unknown as Handler;
      return { provider, callback, csrfSecret: keys.cookieKeys[0] ?? "" };
    })().catch((error) => {
      ready = undefined;
      throw error;
    });
    return ready;
  }

  async function dispatch(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const { provider, callback, csrfSecret } = await load();
    if (path.startsWith(`${OAUTH_MOUNT}/interaction/`)) {
      await handleInteraction({ provider, db, csrfSecret, mountPath: OAUTH_MOUNT, logins }, req, res, path);
      return;
    }
    const original = req.url ?? "/";
    // Mounted like Express does it: the provider sees its own path and finds the prefix in originalUrl.
    const rewritten = METADATA_PATHS.has(path)
      ? "/.well-known/openid-configuration"
      : original.slice(OAUTH_MOUNT.length) || "/";
    (req as IncomingMessage & { originalUrl?: string }).originalUrl = `${OAUTH_MOUNT}${rewritten}`;
    req.url = rewritten;
    await callback(req, res);
  }

  /** Handles `/oauth/*` and the RFC 8414 metadata paths (`path`: the URL without its query); false for anything else. */
  function handle(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    const mine = path === OAUTH_MOUNT || path.startsWith(`${OAUTH_MOUNT}/`) || METADATA_PATHS.has(path);
    if (!mine) return false;
    dispatch(req, res, path).catch((error) => {
      logger.error({ err: error }, "oauth request failed");
      if (!res.headersSent) {
        // A transient failure (database down) is a 5xx, never an `invalid_grant`.
        res.writeHead(503, { "content-type": "application/json", "retry-after": "5" });
        res.end(
          JSON.stringify({ error: "temporarily_unavailable", error_description: "Try again shortly." }),
        );
      } else res.end();
    });
    return true;
  }

  return { handle, load };
}

export type OAuthServer = ReturnType<typeof createOAuthServer>;

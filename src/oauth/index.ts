/** oauth's public module: the OAuth 2.1 server, its clients, keys and token verifier. */

// Its GraphQL types and fields register with the kernel's builder when this module loads.
import "./schema.ts";

export { OAuthClientService } from "./clients.ts";
export { loadOrCreateOAuthKeys } from "./keys.ts";
export { revokeMemberOAuth } from "./revoke.ts";
export { createOAuthServer } from "./server.ts";
export { oauthTokenVerifier } from "./tokens.ts";

import type { Logger } from "pino";
import { ApiKeyService } from "../auth/apiKeys.ts";
import { Authenticator } from "../auth/authenticate.ts";
import { MemberService } from "../auth/members.ts";
import type { Db } from "../db/client.ts";
import { OAuthClientService } from "../oauth/clients.ts";
import { revokeMemberOAuth } from "../oauth/revoke.ts";
import { oauthTokenVerifier } from "../oauth/tokens.ts";
import type { Env } from "./env.ts";

/** Everything a request may use, built once per process. */
export interface Services {
  db: Db;
  env: Env;
  logger: Logger;
  auth: Authenticator;
  members: MemberService;
  apiKeys: ApiKeyService;
  oauthClients: OAuthClientService;
}

export function createServices(db: Db, env: Env, logger: Logger): Services {
  const auth = new Authenticator(
    db,
    (error) => logger.warn({ err: error }, "could not record key use"),
    env.PLUGBOARD_PASSWORD_CACHE_SECONDS * 1000,
  );
  auth.tokenVerifiers.push(oauthTokenVerifier(db));
  const members = new MemberService(db, auth);
  members.onRemoved.push(revokeMemberOAuth);
  return {
    db,
    env,
    logger,
    auth,
    members,
    apiKeys: new ApiKeyService(db, auth),
    oauthClients: new OAuthClientService(db, auth, members),
  };
}

import type { Logger } from "pino";
import { ApiKeyService } from "../auth/apiKeys.ts";
import { Authenticator } from "../auth/authenticate.ts";
import { MemberService } from "../auth/members.ts";
import type { Db } from "../db/client.ts";
import type { Env } from "./env.ts";

/** Everything a request may use, built once per process. */
export interface Services {
  db: Db;
  env: Env;
  logger: Logger;
  auth: Authenticator;
  members: MemberService;
  apiKeys: ApiKeyService;
}

export function createServices(db: Db, env: Env, logger: Logger): Services {
  const auth = new Authenticator(db, (error) => logger.warn({ err: error }, "could not record key use"));
  return {
    db,
    env,
    logger,
    auth,
    members: new MemberService(db, auth),
    apiKeys: new ApiKeyService(db, auth),
  };
}

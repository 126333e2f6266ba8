import { generateKeyPairSync, randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import type { Db } from "../kernel/index.ts";
import { oauthKeys } from "./tables.ts";

export interface OAuthKeys {
  jwks: { keys: Record<string, unknown>[] };
  cookieKeys: string[];
}

const ROW_ID = "default";

function generate(): OAuthKeys {
  // RS256 is what every client verifies ID tokens with; the private JWK never leaves the database.
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = privateKey.export({ format: "jwk" });
  const kid = randomBytes(8).toString("base64url");
  return {
    jwks: { keys: [{ ...jwk, kid, use: "sig", alg: "RS256" }] },
    cookieKeys: [randomBytes(32).toString("base64url")],
  };
}

/**
 * The signing and cookie keys, created by the first process that needs them. `on conflict do
 * nothing` makes concurrent first starts agree on one set, so every process signs and verifies alike.
 */
export async function loadOrCreateOAuthKeys(db: Db): Promise<OAuthKeys> {
  const read = async () => (await db.select().from(oauthKeys).where(eq(oauthKeys.id, ROW_ID)))[0];
  let row = await read();
  if (!row) {
    const fresh = generate();
    await db
      .insert(oauthKeys)
      .values({ id: ROW_ID, jwks: fresh.jwks, cookieKeys: fresh.cookieKeys })
      .onConflictDoNothing();
    row = await read();
    if (!row) throw new Error("oauth keys were not stored");
  }
  return { jwks: row.jwks as OAuthKeys["jwks"], cookieKeys: row.cookieKeys };
}

import { timingSafeEqual } from "node:crypto";
import { eq } from "drizzle-orm";
import Provider, { type Configuration, errors, type KoaContextWithOIDC } from "oidc-provider";
import { findActiveMember, hashToken, memberRole } from "../auth/index.ts";
import type { Db } from "../kernel/index.ts";
import { createAdapter } from "./adapter.ts";
import type { OAuthKeys } from "./keys.ts";
import { grantedOAuthScope } from "./scopes.ts";
import { oauthClients } from "./tables.ts";
import { messagePage } from "./views.ts";

const HOUR = 60 * 60;
/** Refresh tokens and their grants: effectively forever; they die by revocation or removal instead. */
const TEN_YEARS = 10 * 365 * 24 * HOUR;
/** A sign-in (login + consent) must finish within this; its session ends with it. */
const INTERACTION_TTL = 10 * 60;

function sameHash(a: string | undefined, b: string): boolean {
  if (!a || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/** The oidc-provider instance behind `/oauth`, configured for connector platforms. */
export function createProvider(db: Db, issuer: string, keys: OAuthKeys): Provider {
  const mountPath = new URL(issuer).pathname.replace(/\/+$/, "");
  const configuration: Configuration = {
    adapter: createAdapter(db),
    jwks: keys.jwks as Configuration["jwks"],
    cookies: { keys: keys.cookieKeys },
    scopes: ["openid", "offline_access", "read", "write", "admin"],
    // What clients are registered with (see clientMetadata): discovery advertises only these, so
    // no `implicit` grant, `id_token` response type or JWT client authentication nobody can use.
    responseTypes: ["code"],
    // A client registered for client_secret_basic may also send its secret in the body (post).
    clientAuthMethods: ["client_secret_basic", "client_secret_post", "none"],
    claims: { openid: ["sub"], email: ["email"], profile: ["name"] },
    async findAccount(_ctx, sub) {
      const member = await findActiveMember(db, sub);
      // No member, no account: refreshing a removed member's token is `invalid_grant`.
      if (!member) return undefined;
      return {
        accountId: member.id,
        claims: async () => ({ sub: member.id, email: member.email, name: member.name ?? undefined }),
      };
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // A client learns about its own tokens only, never another client's (or workspace's).
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      rpInitiatedLogout: { enabled: false },
    },
    // PKCE is accepted from everyone and required only where it is the only protection.
    pkce: { required: (_ctx, client) => client.clientAuthMethod === "none" },
    // Connectors ask for `read`/`write`, not `offline_access`, and get a refresh token anyway.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed("refresh_token"),
    expiresWithSession: async () => false,
    // Rotating tokens break connectors that refresh concurrently; only public clients rotate.
    rotateRefreshToken: (ctx) => ctx.oidc.client?.clientAuthMethod === "none",
    ttl: {
      AccessToken: HOUR,
      ClientCredentials: HOUR,
      AuthorizationCode: 60,
      IdToken: HOUR,
      RefreshToken: TEN_YEARS,
      Grant: TEN_YEARS,
      Interaction: INTERACTION_TTL,
      Session: INTERACTION_TTL,
    },
    interactions: { url: (_ctx, interaction) => `${mountPath}/interaction/${interaction.uid}` },
    clientBasedCORS: () => false,
    // Errors that cannot go back to the client (an unknown redirect_uri, …) get our plain page.
    renderError: async (ctx, out) => {
      ctx.type = "html";
      ctx.body = messagePage("Sign-in failed", String(out.error_description ?? out.error ?? "Unknown error"));
    },
  };
  const provider = new Provider(issuer, configuration);
  // Behind a TLS-terminating proxy (an https PUBLIC_URL), trust its X-Forwarded-Proto/Host.
  provider.proxy = issuer.startsWith("https:");

  // Client secrets are stored as SHA-256 and handed to the provider as such; compare hashes.
  provider.Client.prototype.compareClientSecret = function compareHashed(actual: string) {
    return sameHash(this.clientSecret, hashToken(actual));
  };

  // A client-credentials token acts as the client's service member: its scope (stored, and listed
  // in the token response) is what that member's role lets it have, not what was asked for.
  const saveClientCredentials = provider.ClientCredentials.prototype.save;
  provider.ClientCredentials.prototype.save = async function saveGranted(this: {
    clientId: string;
    scope?: string;
  }) {
    const [client] = await db
      .select({ serviceMemberId: oauthClients.serviceMemberId })
      .from(oauthClients)
      .where(eq(oauthClients.clientId, this.clientId));
    const role = client?.serviceMemberId ? await memberRole(db, client.serviceMemberId) : undefined;
    const granted = role ? grantedOAuthScope(role, this.scope) : "";
    if (!granted) {
      throw new errors.InvalidScope(
        "The client's member may not have any of these scopes.",
        this.scope ?? "",
      );
    }
    this.scope = granted;
    return saveClientCredentials.call(this as never);
  };

  // No long-lived session: once the authorization completes, its session is gone.
  provider.use(async (ctx: KoaContextWithOIDC, next) => {
    await next();
    const location = String(ctx.response.get("location") ?? "");
    const stillInteracting = location.includes(`${mountPath}/interaction/`);
    if (ctx.oidc?.route === "resume" && location && !stillInteracting && ctx.oidc.session) {
      await ctx.oidc.session.destroy();
    }
  });
  return provider;
}

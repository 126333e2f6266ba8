import { randomBytes } from "node:crypto";
import { and, desc, eq } from "drizzle-orm";
import type { AdapterPayload } from "oidc-provider";
import type { Authenticator, MemberService } from "../auth/index.ts";
import {
  type Actor,
  addServiceMember,
  findActiveMember,
  hashToken,
  markMemberRemoved,
  requireAdmin,
} from "../auth/index.ts";
import type { Db } from "../kernel/index.ts";
import { fail, newId } from "../kernel/index.ts";
import { type OAuthClientRow, oauthArtifacts, oauthClients } from "./tables.ts";

export interface CreateOAuthClientInput {
  name: string;
  redirectUris: string[];
  confidential: boolean;
}

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** https anywhere; plain http only to the loopback host (local development, native apps). */
function checkRedirectUri(value: string, index: number): string {
  const field = "redirectUris";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw fail.badInput(field, `redirectUris[${index}] ${JSON.stringify(value)} is not an absolute URL.`);
  }
  if (url.hash) throw fail.badInput(field, `redirectUris[${index}] must not have a #fragment.`);
  const loopbackHttp = url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== "https:" && !loopbackHttp) {
    throw fail.badInput(
      field,
      `redirectUris[${index}] must use https (plain http only for localhost or 127.0.0.1).`,
    );
  }
  return value;
}

/** The service member a client-credentials token acts as; its email can never receive mail. */
export function serviceMemberEmail(clientId: string): string {
  return `${clientId}@oauth-clients.invalid`;
}

/** OAuth clients of a workspace; only owners and admins (with the ADMIN scope) manage them. */
export class OAuthClientService {
  constructor(
    private readonly db: Db,
    private readonly auth: Authenticator,
    private readonly members: MemberService,
  ) {}

  async list(actor: Actor): Promise<OAuthClientRow[]> {
    requireAdmin(actor);
    return this.db
      .select()
      .from(oauthClients)
      .where(eq(oauthClients.workspaceId, actor.workspaceId))
      .orderBy(desc(oauthClients.createdAt), desc(oauthClients.id));
  }

  /**
   * Registers a client. A confidential one gets a secret (returned once, stored as SHA-256) and a
   * service member with role MEMBER that its client-credentials tokens act as; admins may change
   * that member's role like any other's.
   */
  async create(
    actor: Actor,
    input: CreateOAuthClientInput,
  ): Promise<{ oauthClient: OAuthClientRow; clientSecret: string | null }> {
    requireAdmin(actor);
    const name = input.name.trim();
    if (!name || name.length > 200)
      throw fail.badInput("name", "A client needs a name of 1 to 200 characters.");
    if (input.redirectUris.length < 1 || input.redirectUris.length > 20) {
      throw fail.badInput("redirectUris", "A client needs 1 to 20 redirect URIs.");
    }
    const redirectUris = [...new Set(input.redirectUris.map(checkRedirectUri))];
    const clientId = `pbc_${randomBytes(16).toString("base64url")}`;
    const clientSecret = input.confidential ? `pbcs_${randomBytes(32).toString("base64url")}` : null;
    const oauthClient = await this.db.transaction(async (tx) => {
      let serviceMemberId: string | null = null;
      if (input.confidential) {
        serviceMemberId = await addServiceMember(tx, {
          workspaceId: actor.workspaceId,
          email: serviceMemberEmail(clientId),
          name: `${name} (OAuth client)`,
          role: "MEMBER",
        });
      }
      const [row] = await tx
        .insert(oauthClients)
        .values({
          id: newId("oauthClient"),
          workspaceId: actor.workspaceId,
          clientId,
          name,
          redirectUris,
          confidential: input.confidential,
          secretHash: clientSecret ? hashToken(clientSecret) : null,
          serviceMemberId,
          createdById: actor.memberId,
        })
        .returning();
      if (!row) throw new Error("insert returned no row");
      return row;
    });
    return { oauthClient, clientSecret };
  }

  /** Deletes a client: its tokens, codes and grants go in the same transaction, so they stop at once. */
  async delete(actor: Actor, id: string): Promise<string> {
    requireAdmin(actor);
    await this.db.transaction(async (tx) => {
      const [row] = await tx
        .delete(oauthClients)
        .where(and(eq(oauthClients.id, id), eq(oauthClients.workspaceId, actor.workspaceId)))
        .returning();
      if (!row) throw fail.notFound(`No OAuth client with id ${JSON.stringify(id)}.`);
      await tx.delete(oauthArtifacts).where(eq(oauthArtifacts.clientId, row.clientId));
      if (row.serviceMemberId) {
        await markMemberRemoved(tx, row.serviceMemberId);
        for (const hook of this.members.onRemoved) await hook(tx, actor.workspaceId, row.serviceMemberId);
      }
    });
    this.auth.invalidate();
    return id;
  }
}

export interface ClientWithServiceMember extends OAuthClientRow {
  serviceMemberActive: boolean;
}

export async function findClientByClientId(
  db: Db,
  clientId: string,
): Promise<ClientWithServiceMember | null> {
  const [client] = await db.select().from(oauthClients).where(eq(oauthClients.clientId, clientId));
  if (!client) return null;
  const serviceMember = client.serviceMemberId && (await findActiveMember(db, client.serviceMemberId));
  return { ...client, serviceMemberActive: !!serviceMember };
}

/**
 * The client as oidc-provider sees it. `client_secret` is the stored SHA-256: the provider is told
 * to compare hashes (see `provider.ts`), so the plain secret is never stored anywhere.
 */
export function clientMetadata(client: ClientWithServiceMember): AdapterPayload {
  const grantTypes = ["authorization_code", "refresh_token"];
  // Client credentials act as the service member, so they end when that member is removed.
  if (client.confidential && client.serviceMemberActive) grantTypes.push("client_credentials");
  return {
    client_id: client.clientId,
    client_name: client.name,
    redirect_uris: client.redirectUris,
    response_types: ["code"],
    grant_types: grantTypes,
    token_endpoint_auth_method: client.confidential ? "client_secret_basic" : "none",
    ...(client.confidential && client.secretHash ? { client_secret: client.secretHash } : {}),
  };
}

import { and, eq, gt, isNull, or, sql } from "drizzle-orm";
import type { Adapter, AdapterPayload } from "oidc-provider";
import { hashToken } from "../auth/index.ts";
import type { Db } from "../kernel/index.ts";
import { clientMetadata, findClientByClientId } from "./clients.ts";
import { oauthArtifacts } from "./tables.ts";

/**
 * Models whose id is itself the bearer value: their payload is stored without `jti`, under the
 * id's hash, so the table never holds a usable token (the id comes back from the caller on find).
 */
const bearerModels = new Set(["AccessToken", "ClientCredentials", "RefreshToken", "AuthorizationCode"]);

/** Expired rows are deleted at most this often per process, piggybacking on writes (no timer). */
const SWEEP_INTERVAL_MS = 10 * 60_000;

/** oidc-provider storage in the project's database (PGlite or PostgreSQL), one class per model. */
export function createAdapter(db: Db) {
  let lastSweep = Date.now();
  function sweepExpired(): void {
    if (Date.now() - lastSweep < SWEEP_INTERVAL_MS) return;
    lastSweep = Date.now();
    // Rows an hour past their expiry: nothing reads them any more (finds skip expired rows).
    void db
      .delete(oauthArtifacts)
      .where(sql`${oauthArtifacts.expiresAt} < now() - interval '1 hour'`)
      .catch(() => {});
  }

  return class DrizzleAdapter implements Adapter {
    constructor(private readonly model: string) {}

    private key(id: string): string {
      return hashToken(id);
    }

    private live() {
      return or(isNull(oauthArtifacts.expiresAt), gt(oauthArtifacts.expiresAt, sql`now()`));
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      const stored: AdapterPayload = { ...payload };
      if (bearerModels.has(this.model)) delete stored.jti;
      const expiresAt = expiresIn ? new Date(Date.now() + expiresIn * 1000) : null;
      const values = {
        payload: stored,
        grantId: payload.grantId ?? null,
        uid: payload.uid ?? null,
        userCode: payload.userCode ?? null,
        accountId: payload.accountId ?? payload.session?.accountId ?? null,
        clientId: payload.clientId ?? null,
        expiresAt,
      };
      await db
        .insert(oauthArtifacts)
        .values({ model: this.model, id: this.key(id), ...values })
        .onConflictDoUpdate({ target: [oauthArtifacts.model, oauthArtifacts.id], set: values });
      sweepExpired();
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === "Client") {
        const client = await findClientByClientId(db, id);
        return client ? clientMetadata(client) : undefined;
      }
      const [row] = await db
        .select()
        .from(oauthArtifacts)
        .where(and(eq(oauthArtifacts.model, this.model), eq(oauthArtifacts.id, this.key(id)), this.live()));
      return row ? this.toPayload(row, id) : undefined;
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const [row] = await db
        .select()
        .from(oauthArtifacts)
        .where(and(eq(oauthArtifacts.model, this.model), eq(oauthArtifacts.uid, uid), this.live()));
      return row ? this.toPayload(row) : undefined;
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      const [row] = await db
        .select()
        .from(oauthArtifacts)
        .where(and(eq(oauthArtifacts.model, this.model), eq(oauthArtifacts.userCode, userCode), this.live()));
      return row ? this.toPayload(row) : undefined;
    }

    async consume(id: string): Promise<void> {
      await db
        .update(oauthArtifacts)
        .set({ consumedAt: sql`coalesce(${oauthArtifacts.consumedAt}, now())` })
        .where(and(eq(oauthArtifacts.model, this.model), eq(oauthArtifacts.id, this.key(id))));
    }

    async destroy(id: string): Promise<void> {
      await db
        .delete(oauthArtifacts)
        .where(and(eq(oauthArtifacts.model, this.model), eq(oauthArtifacts.id, this.key(id))));
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await db
        .delete(oauthArtifacts)
        .where(and(eq(oauthArtifacts.model, this.model), eq(oauthArtifacts.grantId, grantId)));
    }

    private toPayload(row: typeof oauthArtifacts.$inferSelect, id?: string): AdapterPayload {
      const payload = { ...(row.payload as AdapterPayload) };
      if (id !== undefined && bearerModels.has(this.model)) payload.jti = id;
      if (row.consumedAt) payload.consumed = Math.floor(new Date(row.consumedAt).getTime() / 1000);
      return payload;
    }
  };
}

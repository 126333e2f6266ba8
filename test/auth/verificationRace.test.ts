import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Actor } from "../../src/auth/index.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

describe("the credential cache after invalidate()", () => {
  it("does not keep a token verified by a check that began before the invalidation", async () => {
    const auth = server.app.services.auth;
    const owner = await auth.authenticateToken(server.owner.token);
    // A bearer token that is not an API key goes through the other verifiers (OAuth's, in the
    // app): this one answers with the state it read before a gate, as a slow database read would.
    let valid = true;
    let reached!: () => void;
    const atGate = new Promise<void>((resolve) => (reached = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    auth.tokenVerifiers.unshift(async () => {
      const read = valid;
      reached();
      await gate;
      return read ? { actor: owner, expiresAt: Date.now() + 60_000 } : null;
    });
    try {
      const token = "pbo_revoked-while-its-check-was-in-flight";
      const inFlight = auth.authenticateToken(token);
      await atGate;
      // Revoked now: what revocations do (src/oauth/clients.ts, src/auth/apiKeys.ts).
      valid = false;
      auth.invalidate();
      release();
      await expect(inFlight).resolves.toMatchObject({ memberId: owner.memberId });
      // The next request must ask again, not take the answer read before the revocation.
      const next = auth.authenticateToken(token);
      expect(next).toBeInstanceOf(Promise);
      await expect(next as Promise<Actor>).rejects.toMatchObject({
        extensions: { code: "UNAUTHENTICATED" },
      });
    } finally {
      auth.tokenVerifiers.shift();
    }
  });

  it("verifies a token once for the requests that arrive together, however many", async () => {
    const auth = server.app.services.auth;
    // Every verification is forgotten, as when the cache window ends under load.
    auth.invalidate();
    const before = server.statements();
    const actors = await Promise.all(
      Array.from({ length: 16 }, () => auth.authenticateToken(server.owner.token)),
    );
    expect(new Set(actors.map((actor) => actor.memberId))).toEqual(new Set([server.owner.memberId]));
    expect(server.statements() - before).toBe(1);
  });
});

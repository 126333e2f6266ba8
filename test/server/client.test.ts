import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateApiKeyDocument,
  createPlugboardClient,
  MembersDocument,
  PlugboardError,
  RevokeApiKeyDocument,
  ViewerDocument,
} from "../../src/client/index.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

describe("the generated typed client", () => {
  it("runs typed operations and surfaces error codes", async () => {
    const client = createPlugboardClient({ url: server.graphqlUrl, token: server.owner.token });
    const { viewer } = await client.request(ViewerDocument);
    expect(viewer.member.role).toBe("OWNER");
    const { createApiKey } = await client.request(CreateApiKeyDocument, {
      input: { name: "typed", scopes: ["READ"] },
    });
    const readOnly = createPlugboardClient({ url: server.graphqlUrl, token: createApiKey.token });
    const { members } = await readOnly.request(MembersDocument);
    expect(members.map((m) => m.email)).toContain("owner@example.com");
    await client.request(RevokeApiKeyDocument, { input: { id: createApiKey.apiKey.id } });
    const error = await readOnly.request(ViewerDocument).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlugboardError);
    expect((error as PlugboardError).code).toBe("UNAUTHENTICATED");
    expect((error as PlugboardError).status).toBe(401);
  });
});

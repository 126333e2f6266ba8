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

describe("the typed client for connectors", () => {
  it("creates, finds and follows changes with typed documents", async () => {
    const { ChangesDocument, CreateResourceDocument, ResourcesDocument } = await import(
      "../../src/client/index.ts"
    );
    const client = createPlugboardClient({ url: server.graphqlUrl, token: server.owner.token });
    const { changes: before } = await client.request(ChangesDocument, { first: 0 });
    const { createResource } = await client.request(CreateResourceDocument, {
      input: { type: "contact", values: { name: "Typed", email: "typed@example.com" } },
    });
    const { resources } = await client.request(ResourcesDocument, {
      type: "contact",
      match: { email: "typed@example.com" },
    });
    expect(resources.nodes.map((n) => n.id)).toEqual([createResource.resource.id]);
    const { changes } = await client.request(ChangesDocument, { after: before.headCursor });
    expect(changes.nodes.map((c) => c.kind)).toEqual(["CREATED"]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, api, CREATE, firstError } from "../helpers/api.ts";
import { gql } from "../helpers/graphql.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
let owner: Api;
beforeAll(async () => {
  server = await startServer({ PLUGBOARD_WEBHOOK_ALLOW_PRIVATE: "true" });
  owner = api(server, server.owner.token);
});
afterAll(() => server?.close());

const send = (query: string, variables: Record<string, unknown>, key: string, token = server.owner.token) =>
  gql(server.graphqlUrl, query, variables, { token, headers: { "Idempotency-Key": key } });
const count = async (type: string) =>
  (await owner.ok(`query($type: String!) { resources(type: $type) { totalCount } }`, { type })).resources
    .totalCount as number;

describe("Idempotency-Key header", () => {
  it("replays a resource mutation's response once written, and echoes the key on its change", async () => {
    const before = await count("contact");
    const variables = { type: "contact", values: { name: "Once" } };
    const first = await send(CREATE, variables, "key-create-1");
    const again = await send(CREATE, variables, "key-create-1");
    expect(first.errors).toBeUndefined();
    expect(again.data).toEqual(first.data);
    expect(await count("contact")).toBe(before + 1);
    const id = (first.data as { createResource: { resource: { id: string } } }).createResource.resource.id;
    const changes = await owner.ok(
      `query($id: ID!) { changes(last: 5, filter: { resourceIds: [$id] }) { nodes { kind request { idempotencyKey requestId } } } }`,
      { id },
    );
    expect(changes.changes.nodes).toEqual([
      {
        kind: "CREATED",
        request: { idempotencyKey: "key-create-1", requestId: first.headers.get("x-request-id") },
      },
    ]);
  });

  it("an input-level idempotencyKey is echoed on the change too", async () => {
    const created = await owner.ok(CREATE, {
      type: "contact",
      values: { name: "Input key" },
      key: "input-key-1",
    });
    const changes = await owner.ok(
      `query($id: ID!) { changes(last: 1, filter: { resourceIds: [$id] }) { nodes { request { idempotencyKey requestId } } } }`,
      { id: created.createResource.resource.id },
    );
    expect(changes.changes.nodes[0].request).toMatchObject({ idempotencyKey: "input-key-1" });
    expect(changes.changes.nodes[0].request.requestId).toEqual(expect.any(String));
  });

  it("the same key with another body is IDEMPOTENCY_CONFLICT with HTTP 409, and runs nothing", async () => {
    await send(CREATE, { type: "contact", values: { name: "A" } }, "key-conflict");
    const before = await count("contact");
    const other = await send(CREATE, { type: "contact", values: { name: "B" } }, "key-conflict");
    expect(other.status).toBe(409);
    expect(firstError(other)).toMatchObject({ code: "IDEMPOTENCY_CONFLICT", field: "Idempotency-Key" });
    expect(await count("contact")).toBe(before);
    const tooLong = await send(CREATE, { type: "contact", values: { name: "C" } }, "k".repeat(201));
    expect(firstError(tooLong)).toMatchObject({ code: "BAD_USER_INPUT", field: "Idempotency-Key" });
  });

  it("covers member and webhook management; one-time secrets are never stored or replayed", async () => {
    const MEMBER = `mutation($email: String!) { createMember(input: { email: $email, role: MEMBER }) { member { id email } } }`;
    const first = await send(MEMBER, { email: "idem@example.com" }, "key-member");
    const again = await send(MEMBER, { email: "idem@example.com" }, "key-member");
    expect(first.errors).toBeUndefined();
    expect(again.data).toEqual(first.data);
    const members = await owner.ok("{ members { email } }");
    expect(members.members.filter((m: { email: string }) => m.email === "idem@example.com")).toHaveLength(1);

    const HOOK = `mutation($url: String!) { createWebhook(input: { url: $url }) { webhook { id } secret } }`;
    const hook = await send(HOOK, { url: "http://127.0.0.1:9/hook" }, "key-hook");
    const hookAgain = await send(HOOK, { url: "http://127.0.0.1:9/hook" }, "key-hook");
    const created = hook.data as { createWebhook: { webhook: { id: string }; secret: string } };
    expect(created.createWebhook.secret).toMatch(/^whsec_/);
    expect(hookAgain.data).toEqual({
      createWebhook: { webhook: created.createWebhook.webhook, secret: null },
    });
    expect((await owner.ok("{ webhooks { id } }")).webhooks).toHaveLength(1);
  });

  it("a failed mutation releases its key; keys are per credential; queries ignore it", async () => {
    const bad = await send(CREATE, { type: "nope", values: {} }, "key-retry");
    expect(firstError(bad).code).toBe("BAD_USER_INPUT");
    const again = await send(CREATE, { type: "nope", values: {} }, "key-retry");
    expect(firstError(again).code).toBe("BAD_USER_INPUT");
    const tenant = await server.createTenant();
    const mine = await send(CREATE, { type: "contact", values: { name: "X" } }, "shared-key");
    const theirs = await send(CREATE, { type: "contact", values: { name: "X" } }, "shared-key", tenant.token);
    expect(theirs.errors).toBeUndefined();
    expect(theirs.data).not.toEqual(mine.data);
    const query = await send("{ viewer { member { id } } }", {}, "shared-key");
    expect(query.errors).toBeUndefined();
  });
});

import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebhookSender } from "../../src/webhooks/send.ts";
import { errorCode, gql, gqlOk } from "../helpers/graphql.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { CREATE_WEBHOOK, createContact, createWebhook } from "./ops.ts";
import { Receiver } from "./receiver.ts";

let server: TestServer;
let r: Receiver;
beforeAll(async () => {
  // The allow flag is off: loopback targets are refused at set-up.
  server = await startServer({ PLUGBOARD_WEBHOOK_RETRY_SCHEDULE: "1" });
  r = await Receiver.start();
});
afterAll(async () => {
  await server?.close();
  await r?.close();
});

describe("webhook targets (SSRF guard)", () => {
  it.each([
    ["http://127.0.0.1/hook", /loopback/],
    ["http://10.0.0.1/hook", /private/],
    ["http://169.254.169.254/latest/meta-data", /a link-local address/],
    ["http://[::1]:8080/hook", /loopback/],
    ["http://[::ffff:10.0.0.1]/hook", /private/],
    ["http://100.64.0.1/hook", /a carrier-grade NAT address/],
    ["http://[fd00:ec2::254]/", /a unique-local address/],
    ["http://localhost:4000/hook", /loopback/],
    ["ftp://example.com/hook", /http or https/],
    ["https://user:pass@example.com/hook", /credentials/],
    ["not a url", /absolute URL/],
  ])("refuses %s", async (url, reason) => {
    const result = await gql(
      server.graphqlUrl,
      CREATE_WEBHOOK,
      { input: { url } },
      { token: server.owner.token },
    );
    expect(errorCode(result)).toBe("BAD_USER_INPUT");
    expect(result.errors?.[0]?.extensions?.field).toBe("url");
    expect(result.errors?.[0]?.message).toMatch(reason);
    expect(result.data).toBeNull();
  });

  it("refuses a private target on update too, and lists nothing refused", async () => {
    const list = await gqlOk<{ webhooks: unknown[] }>(
      server.graphqlUrl,
      "{ webhooks { id } }",
      {},
      {
        token: server.owner.token,
      },
    );
    expect(list.webhooks).toEqual([]);
  });

  it("re-checks at connection time: a refused address is never connected to", async () => {
    const sender = new WebhookSender(false, 2_000);
    const literal = await sender.send(r.url, {}, "{}");
    expect(literal.error).toMatch(/refused target/);
    const named = await sender.send(r.url.replace("127.0.0.1", "localhost"), {}, "{}");
    expect(named.error).toMatch(/refused webhook target localhost/);
    expect(r.received.length + r.unverified.length).toBe(0);
    await sender.close();
    // With private targets allowed the same receiver is reached.
    const allowed = new WebhookSender(true, 2_000);
    expect((await allowed.send(r.url, {}, "{}")).status).toBe(200);
    await allowed.close();
  });

  it("validates the filter and the description", async () => {
    const token = server.owner.token;
    const badType = await gql(
      server.graphqlUrl,
      CREATE_WEBHOOK,
      { input: { url: "https://example.com/", filter: { types: ["nope"] } } },
      { token },
    );
    expect(badType.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "filter.types" });
    const badField = await gql(
      server.graphqlUrl,
      CREATE_WEBHOOK,
      { input: { url: "https://example.com/", filter: { types: ["contact"], fields: ["nope"] } } },
      { token },
    );
    expect(badField.errors?.[0]?.extensions).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "filter.fields",
    });
  });
});

describe("secret rotation", () => {
  it("signs with both secrets during the overlap, then only the new one", async () => {
    const local = await startServer({ PLUGBOARD_WEBHOOK_ALLOW_PRIVATE: "true" });
    const r = await Receiver.start();
    try {
      const token = local.owner.token;
      const hook = await createWebhook(local.graphqlUrl, token, {
        url: r.url,
        filter: { types: ["contact"] },
      });
      const rotated = await gqlOk<{ rotateWebhookSecret: { secret: string } }>(
        local.graphqlUrl,
        `mutation($id: ID!) { rotateWebhookSecret(input: { id: $id, expireCurrentInSeconds: 3600 }) { secret webhook { id } } }`,
        { id: hook.id },
        { token },
      );
      const fresh = rotated.rotateWebhookSecret.secret;
      expect(fresh).not.toBe(hook.secret);
      r.secrets = [fresh];
      await createContact(local.graphqlUrl, token, { name: "Overlap" });
      await r.waitFor(1);
      const verifies = (secret: string, index: number) => {
        const x = r.received[index] ?? r.unverified[index];
        try {
          new Webhook(secret).verify(x?.body ?? "", x?.headers as Record<string, string>);
          return true;
        } catch {
          return false;
        }
      };
      expect(r.received[0]?.headers["webhook-signature"]?.toString().split(" ")).toHaveLength(2);
      expect(verifies(hook.secret, 0)).toBe(true);
      expect(verifies(fresh, 0)).toBe(true);

      const again = await gqlOk<{ rotateWebhookSecret: { secret: string } }>(
        local.graphqlUrl,
        `mutation($id: ID!) { rotateWebhookSecret(input: { id: $id, expireCurrentInSeconds: 0 }) { secret } }`,
        { id: hook.id },
        { token },
      );
      r.secrets = [again.rotateWebhookSecret.secret];
      await createContact(local.graphqlUrl, token, { name: "After" });
      await r.waitFor(2);
      expect(verifies(again.rotateWebhookSecret.secret, 1)).toBe(true);
      expect(verifies(fresh, 1)).toBe(false);
      expect(verifies(hook.secret, 1)).toBe(false);
      const bad = await gql(
        local.graphqlUrl,
        `mutation($id: ID!) { rotateWebhookSecret(input: { id: $id, expireCurrentInSeconds: -1 }) { secret } }`,
        { id: hook.id },
        { token },
      );
      expect(bad.errors?.[0]?.extensions).toMatchObject({
        code: "BAD_USER_INPUT",
        field: "expireCurrentInSeconds",
      });
    } finally {
      await local.close();
      await r.close();
    }
  });
});

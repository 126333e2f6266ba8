import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebhookSender } from "../../src/webhooks/send.ts";
import { refusedAddress } from "../../src/webhooks/targets.ts";
import { errorCode, gql } from "../helpers/graphql.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { CREATE_WEBHOOK } from "./ops.ts";
import { Receiver } from "./receiver.ts";

const HINT =
  "webhook targets must be public (set PLUGBOARD_WEBHOOK_ALLOW_PRIVATE=true to allow private targets in development).";

let guarded: TestServer;
let open: TestServer;
beforeAll(async () => {
  [guarded, open] = await Promise.all([
    startServer(),
    startServer({ PLUGBOARD_WEBHOOK_ALLOW_PRIVATE: "true" }),
  ]);
});
afterAll(async () => {
  await guarded?.close();
  await open?.close();
});

function create(server: TestServer, url: string) {
  return gql<{ createWebhook: { webhook: { url: string } } }>(
    server.graphqlUrl,
    CREATE_WEBHOOK,
    { input: { url } },
    { token: server.owner.token },
  );
}

describe("webhook target guard: IPv6 spellings of IPv4 addresses", () => {
  it.each([
    // IPv4-compatible (deprecated ::a.b.c.d), as written and as URL parsing respells it.
    ["http://[::127.0.0.1]/hook", "::7f00:1 is an IPv4-compatible address of 127.0.0.1, a loopback address"],
    [
      "http://[::a9fe:a9fe]/",
      "::a9fe:a9fe is an IPv4-compatible address of 169.254.169.254, a link-local address",
    ],
    ["http://[::a00:1]/", "::a00:1 is an IPv4-compatible address of 10.0.0.1, a private address"],
    [
      "http://[::ffff:127.0.0.1]/",
      "::ffff:7f00:1 is an IPv4-mapped address of 127.0.0.1, a loopback address",
    ],
    [
      "http://[::ffff:0:a00:1]/",
      "::ffff:0:a00:1 is an IPv4-translated address of 10.0.0.1, a private address",
    ],
    // NAT64 (well-known and local-use prefixes), 6to4 and Teredo embeddings of private ranges.
    ["http://[64:ff9b::10.0.0.1]/", "64:ff9b::a00:1 is a NAT64 address of 10.0.0.1, a private address"],
    [
      "http://[64:ff9b::a9fe:a9fe]/",
      "64:ff9b::a9fe:a9fe is a NAT64 address of 169.254.169.254, a link-local address",
    ],
    ["http://[64:ff9b:1::7f00:1]/", "64:ff9b:1::7f00:1 is a NAT64 address of 127.0.0.1, a loopback address"],
    [
      "http://[2002:a9fe:a9fe::1]/",
      "2002:a9fe:a9fe::1 is a 6to4 address of 169.254.169.254, a link-local address",
    ],
    ["http://[2002:c0a8:101::]/", "2002:c0a8:101:: is a 6to4 address of 192.168.1.1, a private address"],
    [
      "http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/",
      "2001:0:4136:e378:8000:63bf:f5ff:fffe is a Teredo address of 10.0.0.1, a private address",
    ],
    // The transition forms are refused whatever they carry, except the direct ones.
    ["http://[::808:808]/", "::808:808 is an IPv4-compatible address (an IPv6 transition form)"],
    ["http://[2002:808:808::1]/", "2002:808:808::1 is a 6to4 address (an IPv6 transition form)"],
    [
      "http://[64:ff9b::a8f:8110]/",
      "64:ff9b::a8f:8110 is a NAT64 address of 10.143.129.16, a private address",
    ],
    [
      "http://[64:ff9b::a83f:8110]/",
      "64:ff9b::a83f:8110 is a NAT64 address of 168.63.129.16, a cloud metadata address",
    ],
  ])("refuses %s like its IPv4 form", async (url, reason) => {
    const result = await create(guarded, url);
    expect(errorCode(result)).toBe("BAD_USER_INPUT");
    expect(result.errors?.[0]?.extensions?.field).toBe("url");
    expect(result.errors?.[0]?.message).toBe(`url: ${reason}; ${HINT}`);
    expect(result.data).toBeNull();
  });

  it.each([
    ["http://8.8.8.8/hook"],
    ["http://[2606:4700:4700::1111]/hook"],
    ["http://[::ffff:8.8.8.8]/hook"],
    // DNS64 answers for IPv4-only hosts: the gateway reaches exactly that public address.
    ["http://[64:ff9b::8.8.8.8]/hook"],
  ])("accepts the public %s", async (url) => {
    const result = await create(guarded, url);
    expect(result.errors).toBeUndefined();
  });

  it("refuses them at connect time too", async () => {
    const sender = new WebhookSender(false, 2_000);
    const refused = await sender.send("http://[::7f00:1]:9/hook", {}, "{}");
    expect(refused.error).toBe(
      "refused target: ::7f00:1 is an IPv4-compatible address of 127.0.0.1, a loopback address",
    );
    await sender.close();
  });
});

describe("webhook target messages", () => {
  it("names the address, the range and the setting that allows private targets", async () => {
    const literal = await create(guarded, "http://127.0.0.1/hook");
    expect(literal.errors?.[0]?.message).toBe(`url: 127.0.0.1 is a loopback address; ${HINT}`);
    const named = await create(guarded, "http://localhost:4000/hook");
    expect(named.errors?.[0]?.message).toBe(
      `url: localhost resolves to 127.0.0.1, a loopback address; ${HINT}`,
    );
  });

  it("refuses a host that does not resolve, also when private targets are allowed", async () => {
    for (const server of [guarded, open]) {
      const result = await create(server, "https://nonexistent.invalid/hook");
      expect(errorCode(result)).toBe("BAD_USER_INPUT");
      expect(result.errors?.[0]?.extensions?.field).toBe("url");
      expect(result.errors?.[0]?.message).toBe(
        "url: nonexistent.invalid does not resolve; check the host name.",
      );
    }
  });

  it("allows private targets, resolved or literal, when the setting is on", async () => {
    const r = await Receiver.start();
    try {
      for (const url of [r.url, r.url.replace("127.0.0.1", "localhost"), "http://[::7f00:1]/"]) {
        const result = await create(open, url);
        expect(result.errors).toBeUndefined();
      }
    } finally {
      await r.close();
    }
  });
});

describe("addresses as DNS answers print them", () => {
  it.each([
    ["::127.0.0.1", "::127.0.0.1 is an IPv4-compatible address of 127.0.0.1, a loopback address"],
    ["::8.8.8.8", "::8.8.8.8 is an IPv4-compatible address (an IPv6 transition form)"],
    ["::ffff:10.1.2.3", "::ffff:10.1.2.3 is an IPv4-mapped address of 10.1.2.3, a private address"],
    ["64:ff9b::192.168.0.1", "64:ff9b::192.168.0.1 is a NAT64 address of 192.168.0.1, a private address"],
    ["::ffff:8.8.8.8", null],
    ["64:ff9b::8.8.8.8", null],
  ])("judges %s", (address, reason) => {
    expect(refusedAddress(address)).toBe(reason);
  });
});

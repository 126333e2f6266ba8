import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { gql } from "./helpers/graphql.ts";
import { startServer, type TestServer } from "./helpers/server.ts";
import { createContact, headCursor, updateContact } from "./helpers/subscriptions.ts";

// Every example in README.md runs as written, in order, on a fresh install, as the bootstrap owner.
// A block can opt out with `<!-- readme-test: skip (why) -->` on the line before its fence.

interface Block {
  lang: string;
  code: string;
  line: number;
  skip: string | null;
}

function readmeBlocks(): Block[] {
  const lines = readFileSync(new URL("../README.md", import.meta.url), "utf8").split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i] as string);
    if (!open) continue;
    const end = lines.indexOf("```", i + 1);
    if (end < 0) throw new Error(`README.md:${i + 1}: unclosed code block`);
    let previous = i - 1;
    while (previous >= 0 && (lines[previous] as string).trim() === "") previous--;
    const skip = /^<!-- readme-test: skip \((.+)\) -->$/.exec((lines[previous] ?? "").trim());
    blocks.push({
      lang: open[1] as string,
      code: lines.slice(i + 1, end).join("\n"),
      line: i + 1,
      skip: skip ? (skip[1] as string) : null,
    });
    i = end;
  }
  return blocks;
}

const blocks = readmeBlocks();
const graphqlBlocks = blocks.filter((block) => block.lang === "graphql");

describe("README.md examples on a fresh install", { timeout: 60_000 }, () => {
  let server: TestServer;
  let receiver: Server;
  let receiverUrl: string;

  beforeAll(async () => {
    // The webhook example's public URL is replaced by a local receiver (and private targets allowed).
    receiver = createServer((_req, res) => res.writeHead(200).end());
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    server = await startServer({ PLUGBOARD_WEBHOOK_ALLOW_PRIVATE: "true" });
  });
  afterAll(async () => {
    await server?.close();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  it("has GraphQL examples, few of them skipped", () => {
    expect(graphqlBlocks.length).toBeGreaterThanOrEqual(6);
    expect(graphqlBlocks.filter((block) => block.skip).length).toBeLessThanOrEqual(1);
  });

  // In order: a later example may use what an earlier one created (a field, a resource).
  for (const block of graphqlBlocks) {
    const title = `README.md:${block.line} ${block.code.replace(/\s+/g, " ").slice(0, 60)}`;
    it.skipIf(block.skip !== null)(title, async () => {
      if (block.code.trimStart().startsWith("subscription")) {
        await runSubscription(server, block.code);
        return;
      }
      const query = block.code.replaceAll("https://example.com", receiverUrl);
      const result = await gql(server.graphqlUrl, query, {}, { token: server.owner.token });
      expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
      expect(result.status).toBe(200);
    });
  }

  it("the curl example answers with the owner", async () => {
    const block = blocks.find(
      (b) => b.lang === "sh" && b.code.includes("curl -s http://127.0.0.1:4000/graphql"),
    );
    expect(block, "the README's curl example").toBeDefined();
    // Run by the shell as written; only the key (set by the line the reader edits) and the port differ.
    const script = (block as Block).code
      .split("\n")
      .filter((line) => !line.startsWith("TOKEN="))
      .join("\n")
      .replaceAll("http://127.0.0.1:4000", server.url);
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(
        "bash",
        ["-euc", script],
        { env: { PATH: process.env.PATH ?? "", TOKEN: server.owner.token } },
        (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out)),
      ),
    );
    const body = JSON.parse(stdout) as { data: { viewer: { member: { role: string } } }; errors?: unknown };
    expect(body.errors).toBeUndefined();
    expect(body.data.viewer.member.role).toBe("OWNER");
  });
});

/**
 * Runs a subscription example over WebSocket up to its first event: it subscribes after the
 * current head, then a contact is created and its email changed (what the README's filter watches).
 */
async function runSubscription(server: TestServer, query: string): Promise<void> {
  const token = server.owner.token;
  const after = await headCursor(server.graphqlUrl, token);
  const client = createClient({
    url: server.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
  try {
    const subscription = client.iterate<{ changes: { kind: string; resourceId: string } }>({
      query,
      variables: { after },
    });
    const id = await createContact(server.graphqlUrl, token, "Readme Reader");
    await updateContact(server.graphqlUrl, token, id, { email: "reader@example.com" });
    const first = await Promise.race([
      subscription.next(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no event within 10 s")), 10_000)),
    ]);
    expect(first.done).toBe(false);
    const result = first.value as {
      data?: { changes: { kind: string; resourceId: string } };
      errors?: unknown;
    };
    expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
    expect(result.data?.changes).toMatchObject({ kind: "UPDATED", resourceId: id });
    await subscription.return?.();
  } finally {
    await client.dispose();
  }
}

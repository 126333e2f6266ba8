import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { buildSchema, type GraphQLError, Kind, parse, validate } from "graphql";
import { Webhook } from "standardwebhooks";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderSchemaReference } from "../scripts/docs-schema.ts";
import { gql } from "./helpers/graphql.ts";
import { startServer, type TestServer } from "./helpers/server.ts";

// The guides in docs/ cannot drift from the schema: every ```graphql block is validated against
// schema/schema.graphql, and run on a fresh install, in order (files in the order docs/README.md
// lists them), as the bootstrap owner. Comment lines just above a fence steer a block:
//   <!-- docs-test: skip (why) -->                      validated, not run
//   <!-- docs-test: error CODE -->                      must fail with extensions.code CODE
//   <!-- docs-test: variables {"id": {"from": "createResource.resource.id"}} -->
//      variables for the run; `from` takes a value out of the latest response with that root field.
// Subscriptions are validated only (the README's subscription example runs in readme.test.ts);
// blocks whose required variables are not given are validated only too, and counted.

const root = new URL("../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");

interface Block {
  file: string;
  line: number;
  lang: string;
  code: string;
  directives: Directives;
}

interface Directives {
  skip?: string;
  error?: string;
  variables?: string;
}

function blocksOf(file: string): Block[] {
  const lines = read(file).split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i] as string);
    if (!open) continue;
    const end = lines.indexOf("```", i + 1);
    if (end < 0) throw new Error(`${file}:${i + 1}: unclosed code block`);
    // The directives are the comment lines just above the fence (blank lines between allowed).
    const directives: Directives = {};
    for (let previous = i - 1; previous >= 0; previous--) {
      const line = (lines[previous] as string).trim();
      if (line === "") continue;
      const directive = /^<!-- docs-test: (skip|error|variables) (.+) -->$/.exec(line);
      if (!directive) break;
      directives[directive[1] as keyof Directives] = directive[2] as string;
    }
    blocks.push({
      file,
      line: i + 1,
      lang: open[1] as string,
      code: lines.slice(i + 1, end).join("\n"),
      directives,
    });
    i = end;
  }
  return blocks;
}

/** The guides in reading order: docs/README.md's links first, then any page it does not link. */
function guideFiles(): string[] {
  const linked = [...read("docs/README.md").matchAll(/\]\(([\w-]+\.md)(?:#[\w-]*)?\)/g)].map(
    (m) => m[1] as string,
  );
  const all = readdirSync(new URL("docs/", root)).filter((name) => name.endsWith(".md"));
  const order = [...new Set(["README.md", ...linked.filter((name) => all.includes(name)), ...all.sort()])];
  return order.map((name) => `docs/${name}`);
}

const files = guideFiles();
const SAMPLE_PDF = "%PDF-1.4\n% a file served to the docs' importFileFromUrl examples\n%%EOF\n";
const blocks = files.flatMap(blocksOf);
const graphqlBlocks = blocks.filter((block) => block.lang === "graphql");
const schema = buildSchema(read("schema/schema.graphql"));

function operationOf(code: string) {
  const document = parse(code);
  const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (!operation || operation.kind !== Kind.OPERATION_DEFINITION) throw new Error("no operation");
  return { document, operation };
}

/** Whether the block can run without variables the docs do not give (only nullable ones). */
function needsVariables(code: string): boolean {
  const { operation } = operationOf(code);
  return (operation.variableDefinitions ?? []).some(
    (v) => v.type.kind === Kind.NON_NULL_TYPE && v.defaultValue === undefined,
  );
}

function title(block: Block): string {
  return `${block.file}:${block.line} ${block.code.replace(/\s+/g, " ").slice(0, 60)}`;
}

describe("docs/ GraphQL examples are valid against the schema", () => {
  it("has examples in every guide that documents operations", () => {
    expect(graphqlBlocks.length).toBeGreaterThanOrEqual(25);
  });

  it("every query, mutation and subscription has an example", () => {
    const shown = new Set<string>();
    for (const block of graphqlBlocks) {
      const { operation } = operationOf(block.code);
      for (const selection of operation.selectionSet.selections) {
        if (selection.kind === Kind.FIELD) shown.add(`${operation.operation}.${selection.name.value}`);
      }
    }
    const roots = [
      ["query", schema.getQueryType()],
      ["mutation", schema.getMutationType()],
      ["subscription", schema.getSubscriptionType()],
    ] as const;
    const missing = roots.flatMap(([operation, type]) =>
      Object.keys(type?.getFields() ?? {})
        .map((name) => `${operation}.${name}`)
        .filter((name) => !shown.has(name)),
    );
    expect(missing).toEqual([]);
  });

  for (const block of graphqlBlocks) {
    it(title(block), () => {
      const errors: readonly GraphQLError[] = validate(schema, parse(block.code));
      expect(errors.map((e) => e.message)).toEqual([]);
    });
  }
});

// One server for the whole file (starting one is most of this file's time), fresh when the examples
// run first. Public URLs in examples point at a local receiver instead (private targets allowed):
// webhooks POST to it (recorded by path), importFileFromUrl GETs a small PDF from it.
let server: TestServer;
let receiver: Server;
let receiverUrl: string;
const received: { path: string; body: Buffer; headers: Record<string, string> }[] = [];

beforeAll(async () => {
  receiver = createServer(async (req, res) => {
    if (req.method === "GET") {
      res.writeHead(200, { "content-type": "application/pdf" }).end(SAMPLE_PDF);
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    received.push({
      path: req.url ?? "/",
      body: Buffer.concat(chunks),
      headers: req.headers as Record<string, string>,
    });
    res.writeHead(204).end();
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  server = await startServer({ PLUGBOARD_WEBHOOK_ALLOW_PRIVATE: "true" });
}, 120_000);
afterAll(async () => {
  await server?.close();
  await new Promise((resolve) => receiver?.close(resolve));
});

describe("docs/ GraphQL examples on a fresh install", { timeout: 120_000 }, () => {
  /** The latest response data of each root field, for `variables` directives. */
  const results = new Map<string, unknown>();

  /** Replaces every `{ "from": "root.path" }` in the directive's JSON with that response value. */
  function resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(resolve);
    if (value === null || typeof value !== "object") return value;
    const from = (value as { from?: unknown }).from;
    if (typeof from !== "string") {
      return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, resolve(inner)]));
    }
    const [field, ...path] = from.split(".");
    let current: unknown = results.get(field as string);
    for (const step of path) current = (current as Record<string, unknown> | undefined)?.[step];
    if (current === undefined) throw new Error(`variables: nothing at ${from} yet`);
    return current;
  }

  const runnable = graphqlBlocks.filter(
    (block) =>
      !block.code.trimStart().startsWith("subscription") &&
      block.directives.skip === undefined &&
      (block.directives.variables !== undefined || !needsVariables(block.code)),
  );

  it("runs most examples, not just validates them", () => {
    expect(runnable.length).toBeGreaterThanOrEqual(Math.floor(graphqlBlocks.length * 0.6));
  });

  for (const block of runnable) {
    it(title(block), async () => {
      const variables = block.directives.variables
        ? (resolve(JSON.parse(block.directives.variables)) as Record<string, unknown>)
        : {};
      const query = block.code.replaceAll("https://example.com", receiverUrl);
      const result = await gql(server.graphqlUrl, query, variables, { token: server.owner.token });
      if (block.directives.error) {
        expect(result.errors?.[0]?.extensions?.code, JSON.stringify(result.errors)).toBe(
          block.directives.error,
        );
        return;
      }
      expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
      for (const [field, value] of Object.entries(result.data ?? {})) results.set(field, value);
    });
  }
});

describe("docs/changes-and-webhooks.md's webhook examples against a real delivery", {
  timeout: 60_000,
}, () => {
  const page = "docs/changes-and-webhooks.md";
  const verifier = blocksOf(page).find(
    (b) => b.lang === "js" && b.code.includes("export function verifyWebhook"),
  );
  const payloadExample = blocksOf(page).find((b) => b.lang === "json" && b.code.includes('"webhookId"'));
  let hooks = 0;

  /** Creates a webhook on the receiver, makes a contact, and returns the secret and its delivery. */
  async function oneDelivery() {
    const path = `/verify/${++hooks}`;
    const url = `${receiverUrl}${path}`;
    const created = await gql<{ createWebhook: { secret: string } }>(
      server.graphqlUrl,
      `mutation ($url: String!) { createWebhook(input: { url: $url, filter: { types: ["contact"] } }) { secret } }`,
      { url },
      { token: server.owner.token },
    );
    expect(created.errors).toBeUndefined();
    const made = await gql(
      server.graphqlUrl,
      `mutation { createResource(input: { type: "contact", values: { name: "Hook Reader" } }) { resource { id } } }`,
      {},
      { token: server.owner.token },
    );
    expect(made.errors).toBeUndefined();
    const deadline = Date.now() + 15_000;
    const mine = () => received.find((delivery) => delivery.path === path);
    while (!mine() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    const delivery = mine();
    if (!delivery) throw new Error("no delivery within 15 s");
    return { secret: (created.data as { createWebhook: { secret: string } }).createWebhook.secret, delivery };
  }

  it("the verifier accepts a real delivery and refuses a tampered one, a wrong secret and a stale timestamp", async () => {
    expect(verifier, "the verifyWebhook block").toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), "plugboard-docs-"));
    const file = join(dir, "verify.mjs");
    writeFileSync(file, (verifier as Block).code);
    const { verifyWebhook } = (await import(pathToFileURL(file).href)) as {
      verifyWebhook: (secret: string, body: string | Buffer, headers: Record<string, string>) => unknown;
    };
    const { secret, delivery } = await oneDelivery();

    const payload = verifyWebhook(secret, delivery.body, delivery.headers) as {
      type: string;
      data: { kind: string };
    };
    expect(payload).toMatchObject({ type: "contact.created", data: { kind: "CREATED" } });
    expect(verifyWebhook(secret, delivery.body.toString("utf8"), delivery.headers)).toEqual(payload);

    const tampered = Buffer.from(delivery.body.toString("utf8").replace("Hook Reader", "Hook Writer"));
    expect(() => verifyWebhook(secret, tampered, delivery.headers)).toThrow(/signature/);
    const otherSecret = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;
    expect(() => verifyWebhook(otherSecret, delivery.body, delivery.headers)).toThrow(/signature/);
    const stale = { ...delivery.headers, "webhook-timestamp": String(Math.floor(Date.now() / 1000) - 3600) };
    expect(() => verifyWebhook(secret, delivery.body, stale)).toThrow(/timestamp/);
    // The library the page also names agrees on the same delivery.
    expect(new Webhook(secret).verify(delivery.body.toString("utf8"), delivery.headers)).toEqual(payload);
  });

  it("the payload example has the real payload's keys", async () => {
    expect(payloadExample, "the payload example").toBeDefined();
    const { delivery } = await oneDelivery();
    type Payload = { data: { actor: object; fields: object[] } };
    const real = JSON.parse(delivery.body.toString("utf8")) as Payload;
    const shown = JSON.parse((payloadExample as Block).code) as Payload;
    const keys = (o: object | undefined) => Object.keys(o ?? {}).sort();
    expect(keys(shown)).toEqual(keys(real));
    expect(keys(shown.data)).toEqual(keys(real.data));
    expect(keys(shown.data.actor)).toEqual(keys(real.data.actor));
    expect(keys(shown.data.fields[0])).toEqual(keys(real.data.fields[0]));
    expect(delivery.headers["user-agent"]).toBe("Plugboard-Webhooks/1");
  });
});

describe("docs/changes-and-webhooks.md's polling trigger against a live server", { timeout: 60_000 }, () => {
  const trigger = blocksOf("docs/changes-and-webhooks.md").find(
    (b) => b.lang === "ts" && b.code.includes("export async function poll("),
  );
  let file: string;

  beforeAll(() => {
    file = join(mkdtempSync(join(tmpdir(), "plugboard-trigger-")), "trigger.mts");
    writeFileSync(file, (trigger as Block).code);
  });

  it("typechecks on its own, strictly, as a newcomer's trigger.mts would", () => {
    expect(trigger, "the trigger block").toBeDefined();
    const program = ts.createProgram([file], {
      strict: true,
      noUncheckedIndexedAccess: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      lib: ["lib.es2023.d.ts", "lib.dom.d.ts"],
      types: ["node"],
      typeRoots: [fileURLToPath(new URL("node_modules/@types", root))],
      skipLibCheck: true,
    });
    const diagnostics = ts
      .getPreEmitDiagnostics(program)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    expect(diagnostics).toEqual([]);
  });

  it("starts at now, reports each change once across polls, and stores a cursor that moves", async () => {
    type Trigger = {
      startCursor(url: string, token: string): Promise<string>;
      poll(
        url: string,
        token: string,
        cursor: string | null,
        filter?: object,
      ): Promise<{ changes: { id: string; kind: string; resourceId: string }[]; cursor: string | null }>;
    };
    const { startCursor, poll } = (await import(pathToFileURL(file).href)) as Trigger;
    const { graphqlUrl, owner } = server;
    const create = async (name: string) => {
      const result = await gql<{ createResource: { resource: { id: string } } }>(
        graphqlUrl,
        `mutation ($name: String!) { createResource(input: { type: "contact", values: { name: $name } }) { resource { id } } }`,
        { name },
        { token: owner.token },
      );
      return (result.data as { createResource: { resource: { id: string } } }).createResource.resource.id;
    };
    await create("Before the trigger");
    const start = await startCursor(graphqlUrl, owner.token);
    const first = await create("First");
    await gql(
      graphqlUrl,
      `mutation { createResource(input: { type: "task", values: { name: "Not a contact" } }) { resource { id } } }`,
      {},
      { token: owner.token },
    );
    const second = await create("Second");
    const filter = { types: ["contact"], kinds: ["CREATED"] };

    let polled = await poll(graphqlUrl, owner.token, start, filter);
    for (let i = 0; polled.changes.length < 2 && i < 50; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100)); // numbering follows the commit
      polled = await poll(graphqlUrl, owner.token, start, filter);
    }
    expect(polled.changes.map((c) => c.resourceId)).toEqual([first, second]);
    expect(Number(polled.cursor)).toBeGreaterThan(Number(start));

    const again = await poll(graphqlUrl, owner.token, polled.cursor, filter);
    expect(again.changes).toEqual([]);
    expect(again.cursor).toBe(polled.cursor);
  });
});

describe("docs/changes-and-webhooks.md's subscription client against a live server", () => {
  it("follows changes in order from a cursor, and resumes from the last id without a repeat", async () => {
    const block = blocksOf("docs/changes-and-webhooks.md").find(
      (b) => b.lang === "js" && b.code.includes("export async function follow("),
    );
    expect(block, "the follow block").toBeDefined();
    const file = join(mkdtempSync(join(tmpdir(), "plugboard-follow-")), "follow.mjs");
    // Written outside the repository, it resolves packages from here as a connector's own would.
    writeFileSync(
      file,
      (block as Block).code
        .replace('from "graphql-ws"', `from ${JSON.stringify(import.meta.resolve("graphql-ws"))}`)
        .replace('from "ws"', `from ${JSON.stringify(import.meta.resolve("ws"))}`),
    );
    type Change = { id: string; kind: string; resourceId: string };
    const { follow } = (await import(pathToFileURL(file).href)) as {
      follow(options: {
        url: string;
        token: string;
        after: string | null;
        handle(c: Change): unknown;
      }): Promise<void>;
    };
    const { graphqlUrl, owner } = server;
    const head = await gql<{ changes: { headCursor: string } }>(
      graphqlUrl,
      "{ changes(last: 1) { headCursor } }",
      {},
      { token: owner.token },
    );
    const after = (head.data as { changes: { headCursor: string } }).changes.headCursor;
    const made = await gql<{ createResource: { resource: { id: string } } }>(
      graphqlUrl,
      `mutation { createResource(input: { type: "contact", values: { name: "Follower", email: "one@example.com" } }) { resource { id } } }`,
      {},
      { token: owner.token },
    );
    const id = (made.data as { createResource: { resource: { id: string } } }).createResource.resource.id;
    await gql(
      graphqlUrl,
      `mutation ($id: ID!) { updateResource(input: { id: $id, values: { email: "two@example.com" } }) { resource { id } } }`,
      { id },
      { token: owner.token },
    );

    const seen: Change[] = [];
    await follow({ url: server.wsUrl, token: owner.token, after, handle: (c) => seen.push(c) < 2 });
    expect(seen.map((c) => [c.kind, c.resourceId])).toEqual([
      ["CREATED", id],
      ["UPDATED", id],
    ]);
    // Resuming from the last id handled gives the next change, live, and nothing handled before.
    const resumed: Change[] = [];
    const following = follow({
      url: server.wsUrl,
      token: owner.token,
      after: seen[1]?.id ?? null,
      handle: (c) => resumed.push(c) < 1,
    });
    await gql(
      graphqlUrl,
      `mutation ($id: ID!) { updateResource(input: { id: $id, values: { email: "three@example.com" } }) { resource { id } } }`,
      { id },
      { token: owner.token },
    );
    await following;
    expect(resumed.map((c) => [c.kind, Number(c.id) > Number(seen[1]?.id)])).toEqual([["UPDATED", true]]);
  });
});

describe("docs/files.md's Node.js examples against a live server", () => {
  it("uploads by POST /files and by multipart, and downloads the same bytes", async () => {
    const blocks = blocksOf("docs/files.md").filter((b) => b.lang === "js");
    expect(blocks.map((b) => b.code.includes("fetch"))).toEqual([true, true, true]);
    const dir = mkdtempSync(join(tmpdir(), "plugboard-files-"));
    const original = Buffer.concat([Buffer.from(SAMPLE_PDF), randomBytes(3000)]);
    writeFileSync(join(dir, "report.pdf"), original);
    // The three examples in order, as one module: the later ones use what the first declares.
    const module = [...blocks.map((b) => b.code), "export { file, data };"]
      .join("\n")
      .replaceAll("http://127.0.0.1:4000", server.url)
      .replaceAll('"report.pdf"', JSON.stringify(join(dir, "report.pdf")))
      .replaceAll('"copy.pdf"', JSON.stringify(join(dir, "copy.pdf")));
    writeFileSync(join(dir, "files.mjs"), module);
    process.env.PLUGBOARD_TOKEN = server.owner.token;
    const { file, data } = (await import(pathToFileURL(join(dir, "files.mjs")).href)) as {
      file: { id: string; size: number; contentType: string };
      data: { uploadFile: { file: { id: string; size: number } } };
    };
    expect(file).toMatchObject({ size: original.length, contentType: "application/pdf" });
    expect(data.uploadFile.file.size).toBe(original.length);
    expect(readFileSync(join(dir, "copy.pdf")).equals(original)).toBe(true);
  });
});

describe("docs/ stays true to the repository", () => {
  it("schema.md is what npm run docs renders from schema/schema.graphql", () => {
    expect(read("docs/schema.md")).toBe(renderSchemaReference(read("schema/schema.graphql")));
  });

  it("every error code the docs list is the server's closed list, and every code is listed", async () => {
    const { errorCodes } = await import("../src/kernel/errors.ts");
    const page = read("docs/errors-and-limits.md");
    for (const code of errorCodes) expect(page, code).toContain(`\`${code}\``);
  });

  it("every relative link in README.md and docs/ reaches a file and heading that exist", () => {
    const pages = ["README.md", ...files];
    const broken: string[] = [];
    for (const page of pages) {
      const text = read(page);
      for (const match of text.matchAll(/\]\((?!https?:|mailto:|<)([^)\s]*)\)/g)) {
        const target = match[1] as string;
        const [path, hash] = target.split("#") as [string, string | undefined];
        const resolved = path ? new URL(path, new URL(page, root)) : new URL(page, root);
        let content: string;
        try {
          content = readFileSync(resolved, "utf8");
        } catch {
          broken.push(`${page}: ${target} (no such file)`);
          continue;
        }
        if (hash && resolved.pathname.endsWith(".md") && !anchorsOf(content).has(hash)) {
          broken.push(`${page}: ${target} (no such heading)`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it("no tracked file points outside the repository", () => {
    // Written in pieces so this file does not match itself.
    const outside = [
      ["..", "/shared"].join(""),
      ["/wo", "rk/"].join(""),
      ...["API", "DESIGN", "STYLE"].map((n) => `${n}.md`),
    ];
    const tracked = repositoryFiles().filter(
      (path) => !path.startsWith("drizzle/meta/") && !/\.(png|jpg|ico|lock)$/.test(path),
    );
    const hits: string[] = [];
    for (const path of tracked) {
      let text: string;
      try {
        text = read(path);
      } catch {
        continue; // deleted in the worktree, not yet committed
      }
      for (const needle of outside) if (text.includes(needle)) hits.push(`${path}: ${needle}`);
    }
    expect(hits).toEqual([]);
  });
});

/** GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*)$/.exec(line);
    if (!heading) continue;
    const base = (heading[1] as string)
      .trim()
      .toLowerCase()
      .replace(/<[^>]+>/g, "")
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** The repository's files: git's list, or (an export without .git) every file outside what git ignores. */
function repositoryFiles(): string[] {
  try {
    return execFileSync("git", ["ls-files", "-z"], { cwd: root, encoding: "utf8" })
      .split("\0")
      .filter(Boolean);
  } catch {
    const ignored = new Set([".git", "node_modules", ".plugboard", ".deps", "coverage"]);
    const walk = (dir: string): string[] =>
      readdirSync(new URL(dir, root), { withFileTypes: true }).flatMap((entry) => {
        if (ignored.has(entry.name)) return [];
        const path = `${dir}${entry.name}`;
        return entry.isDirectory() ? walk(`${path}/`) : [path];
      });
    return walk("");
  }
}

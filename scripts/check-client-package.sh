#!/usr/bin/env bash
# Builds `plugboard/client` and checks it as a connector author meets it: a project outside the
# repository installs the package, type-checks against its .d.ts and runs it as ESM. Also checks
# that the compiled client imports nothing of the server (no PGlite, Drizzle, server code).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
npm run build --silent

node --input-type=module - "$repo/dist/client" <<'JS'
import { readdirSync, readFileSync } from "node:fs";
const dir = process.argv[2];
const allowed = new Set(["graphql", "graphql-ws", "ws", "@graphql-typed-document-node/core"]);
const bad = [];
for (const file of readdirSync(dir).filter((f) => f.endsWith(".js") || f.endsWith(".d.ts"))) {
  const text = readFileSync(`${dir}/${file}`, "utf8");
  for (const [, spec] of text.matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g)) {
    const local = spec.startsWith("./") && !spec.includes("..");
    if (!local && !spec.startsWith("node:") && !allowed.has(spec)) bad.push(`${file}: ${spec}`);
  }
}
if (bad.length) {
  console.error(`dist/client imports what a client must not:\n${bad.join("\n")}`);
  process.exit(1);
}
JS

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cd "$scratch"
printf '{ "name": "scratch-connector", "private": true, "type": "module" }\n' >package.json
npm install --no-audit --no-fund --silent "$repo"

cat >check.ts <<'TS'
import { createHmac } from "node:crypto";
import {
  type ChangeEntry,
  createClient,
  NetworkError,
  PlugboardError,
  type PlugboardClient,
  ResourcesDocument,
  verifyWebhook,
  WebhookVerificationError,
} from "plugboard/client";

const client: PlugboardClient = createClient({ url: "http://127.0.0.1:9/graphql", token: "pbk_x", retry: { retries: 0 } });

// Types flow from the schema: a wrong variable or a misspelt result field does not compile.
async function typed(): Promise<string[]> {
  const { resources } = await client.request(ResourcesDocument, { type: "contact", first: 10 });
  // @ts-expect-error `first` is an Int
  await client.request(ResourcesDocument, { type: "contact", first: "10" });
  // @ts-expect-error there is no `nme` on a resource
  resources.nodes[0]?.nme;
  const entries: ChangeEntry[] = [];
  for await (const entry of client.changes({ after: "0", follow: false })) entries.push(entry);
  return [...resources.nodes.map((n) => n.id), ...entries.map((e) => e.cursor)];
}
void typed;

const error = await client.viewer().catch((e: unknown) => e);
if (!(error instanceof NetworkError) || !(error instanceof PlugboardError) || error.code !== "NETWORK_ERROR") {
  throw new Error(`expected a NetworkError, got ${String(error)}`);
}

const secret = `whsec_${Buffer.from("k".repeat(32)).toString("base64")}`;
const body = JSON.stringify({ type: "contact.created", timestamp: "t", webhookId: "wh_1", data: { id: "7" } });
const timestamp = String(Math.floor(Date.now() / 1000));
const signature = createHmac("sha256", Buffer.from("k".repeat(32)))
  .update(`msg_1.${timestamp}.${body}`)
  .digest("base64");
const headers = { "webhook-id": "msg_1", "webhook-timestamp": timestamp, "webhook-signature": `v1,${signature}` };
const event = verifyWebhook(secret, body, headers);
if (event.id !== "msg_1" || event.data.id !== "7") throw new Error("verifyWebhook returned the wrong event");
try {
  verifyWebhook(secret, `${body} `, headers);
  throw new Error("a tampered body verified");
} catch (e) {
  if (!(e instanceof WebhookVerificationError)) throw e;
}
console.log("plugboard/client: installed, typed and running outside the repository");
TS

"$repo/node_modules/.bin/tsc" --strict --noEmit false --outDir out --target es2022 --module nodenext \
  --moduleResolution nodenext --skipLibCheck --types node --typeRoots "$repo/node_modules/@types" check.ts
node out/check.js

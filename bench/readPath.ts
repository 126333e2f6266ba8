/**
 * The read path's JavaScript cost, in process (no network, no load generator): requests/s of a
 * page of 50 contacts with their values and linked accounts through the real app, on in-memory
 * PGlite. Used to compare executor settings run against run.
 *
 *   npx tsx bench/readPath.ts
 */
import type { AddressInfo } from "node:net";
import { loadEnv } from "../src/kernel/env.ts";
import { createLogger } from "../src/kernel/logger.ts";
import { buildApp } from "../src/server/app.ts";
import { openDatabase } from "../src/server/database.ts";
import { prepareDatabase } from "../src/server/runtime.ts";

const token = "pbk_bench_token_0123456789abcdefghijklmnopqrstuvwxyz";
const env = loadEnv({
  PLUGBOARD_DATA_DIR: "memory://",
  PLUGBOARD_ADMIN_TOKEN: token,
  PLUGBOARD_LOG_LEVEL: "silent",
  PLUGBOARD_RATE_LIMIT: "0",
});
const logger = createLogger("silent");
const database = await openDatabase({ dataDir: "memory://" });
await prepareDatabase(database, env, logger);
const app = buildApp({ database, env, logger });
await new Promise<void>((resolve) => app.server.listen(0, "127.0.0.1", resolve));
const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/graphql`;
const post = async (query: string, variables = {}) => {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { errors?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body;
};
const accounts = Array.from({ length: 20 }, (_, i) => ({ values: { name: `Account ${i}` } }));
const created = (await post(
  `mutation($items: [CreateResourcesItem!]!) { createResources(input: { type: "account", items: $items }) { resources { id } } }`,
  { items: accounts },
)) as { data: { createResources: { resources: { id: string }[] } } };
const ids = created.data.createResources.resources.map((r) => r.id);
for (let batch = 0; batch < 5; batch++) {
  const items = Array.from({ length: 100 }, (_, i) => ({
    values: {
      name: `Contact ${batch}-${i}`,
      email: `c${batch}-${i}@example.com`,
      title: "Engineer",
      accounts: [ids[i % 20]],
    },
  }));
  await post(
    `mutation($items: [CreateResourcesItem!]!) { createResources(input: { type: "contact", items: $items }) { resources { id } } }`,
    { items },
  );
}
const PAGE = `{ resources(type: "contact", orderBy: [{ field: "name" }], first: 50) { nodes { id name values linked(field: "accounts") { nodes { name } } } } }`;
for (let i = 0; i < 100; i++) await post(PAGE);
const n = Number(process.env.N ?? 500);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let i = 0; i < n; i++) await post(PAGE);
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
console.log(
  `${(n / (ms / 1000)).toFixed(0)} req/s sequential, ${((cpu.user + cpu.system) / 1000 / n).toFixed(2)} ms CPU per request (client and server in one process)`,
);
await app.close();
await database.close();

import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { gqlOk } from "../helpers/graphql.ts";
import { type ServeProcess, startServeProcess } from "../helpers/process.ts";
import { createWebhook } from "./ops.ts";
import { Receiver, sleep } from "./receiver.ts";

const onPostgres = process.env.PLUGBOARD_TEST_DB === "postgres";
const TOKEN = "pbk_webhook_processes_token_0123456789abcdef";

/** Several `plugboard serve` processes on one PostgreSQL database (PGlite is single-process). */
describe.skipIf(!onPostgres)("webhook delivery across processes", () => {
  let database: TestDatabase;
  const processes: ServeProcess[] = [];
  const receivers: Receiver[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createTestDatabase();
    env = {
      DATABASE_URL: database.url ?? "",
      PLUGBOARD_ADMIN_TOKEN: TOKEN,
      PLUGBOARD_WEBHOOK_ALLOW_PRIVATE: "true",
      PLUGBOARD_WEBHOOK_RETRY_SCHEDULE: "1,1,1",
      // A short attempt deadline makes a killed process's lease lapse in seconds.
      PLUGBOARD_WEBHOOK_TIMEOUT_MS: "1000",
      PLUGBOARD_LOG_LEVEL: "warn",
    };
  });
  afterAll(async () => {
    for (const p of processes) await p.stop("SIGKILL");
    for (const r of receivers) await r.close();
    await database?.drop();
  });

  async function serve(): Promise<ServeProcess> {
    const p = await startServeProcess(await openPort(), env);
    processes.push(p);
    return p;
  }

  async function burst(url: string, count: number, label: string): Promise<void> {
    for (let i = 0; i < count; i += 100) {
      const items = Array.from({ length: Math.min(100, count - i) }, (_, j) => ({
        values: { name: `${label} ${i + j}` },
      }));
      await gqlOk(
        `${url}/graphql`,
        `mutation($items: [CreateResourcesItem!]!) { createResources(input: { type: "contact", items: $items }) { resources { id } } }`,
        { items },
        { token: TOKEN },
      );
    }
  }

  it("two processes deliver a burst of 1,000 changes exactly once each", async () => {
    const a = await serve();
    const b = await serve();
    const r = await Receiver.start();
    receivers.push(r);
    const hook = await createWebhook(`${a.url}/graphql`, TOKEN, {
      url: r.url,
      filter: { types: ["contact"] },
    });
    r.secrets = [hook.secret];
    // Writes go through both processes; either may deliver.
    await Promise.all([burst(a.url, 500, "A"), burst(b.url, 500, "B")]);
    await r.waitFor(1000, 60_000);
    await sleep(1_000);
    expect(r.unverified).toHaveLength(0);
    const ids = r.received.map((x) => String(x.headers["webhook-id"]));
    expect(ids).toHaveLength(1000);
    expect(new Set(ids).size).toBe(1000);
    // Per webhook, in change order.
    const seqs = r.received.map((x) => Number(x.payload.data.id));
    expect(seqs).toEqual([...seqs].sort((p, q) => p - q));
    await a.stop();
    await b.stop();
  }, 120_000);

  it("loses nothing when a process is killed mid-delivery", async () => {
    const a = await serve();
    // A slow receiver keeps deliveries in flight when the process dies.
    const r = await Receiver.start(async () => {
      await sleep(15);
      return 200;
    });
    receivers.push(r);
    const hook = await createWebhook(`${a.url}/graphql`, TOKEN, {
      url: r.url,
      filter: { types: ["contact"] },
    });
    r.secrets = [hook.secret];
    await burst(a.url, 300, "K");
    await r.waitFor(40, 30_000);
    await a.stop("SIGKILL");
    const before = r.received.length;
    expect(before).toBeLessThan(300);
    // A new process takes over once the killed process's lease lapses.
    await serve();
    await waitForDistinct(r, 300, 60_000);
    const ids = new Set(r.received.map((x) => String(x.headers["webhook-id"])));
    expect(ids.size).toBe(300);
  }, 120_000);
});

async function waitForDistinct(r: Receiver, count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (new Set(r.received.map((x) => String(x.headers["webhook-id"]))).size < count) {
    if (Date.now() > deadline) throw new Error(`only ${r.received.length} deliveries arrived`);
    await sleep(100);
  }
}

/** A port the OS just handed out (other suites on this machine use fixed ranges). */
function openPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

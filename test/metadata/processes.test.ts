import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/kernel/logger.ts";
import { type App, buildApp } from "../../src/server/app.ts";
import { gqlOk } from "../helpers/graphql.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

const onPostgres = process.env.PLUGBOARD_TEST_DB === "postgres";

let server: TestServer;
let second: App;
let secondUrl: string;
beforeAll(async () => {
  if (!onPostgres) return;
  server = await startServer();
  // A second process on the same database: it caches catalogs and learns of changes by NOTIFY.
  second = buildApp({ database: server.database, env: server.env, logger: createLogger("silent") });
  await new Promise<void>((resolve) => second.server.listen(0, "127.0.0.1", resolve));
  secondUrl = `http://127.0.0.1:${(second.server.address() as AddressInfo).port}/graphql`;
});
afterAll(async () => {
  await second?.close();
  await server?.close();
});

describe.skipIf(!onPostgres)("schema changes across processes", () => {
  it("reach another process's cached catalog as they commit, not after its 5 s re-check", async () => {
    const token = server.owner.token;
    const fieldKeys = async () =>
      (
        await gqlOk<{ resourceType: { fields: { key: string }[] } }>(
          secondUrl,
          `{ resourceType(key: "contact") { fields { key } } }`,
          {},
          { token },
        )
      ).resourceType.fields.map((f) => f.key);
    expect(await fieldKeys()).not.toContain("loyalty"); // cached now
    await gqlOk(
      server.graphqlUrl,
      `mutation { createField(input: { resourceType: "contact", key: "loyalty", name: "Loyalty", type: INTEGER }) { field { id } } }`,
      {},
      { token },
    );
    const started = Date.now();
    while (!(await fieldKeys()).includes("loyalty")) {
      expect(Date.now() - started).toBeLessThan(1_000);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // And a write through the second process can use the new field at once.
    const created = await gqlOk<{ createResource: { resource: { values: { loyalty: number } } } }>(
      secondUrl,
      `mutation { createResource(input: { type: "contact", values: { name: "Ada", loyalty: 3 } }) { resource { values } } }`,
      {},
      { token },
    );
    expect(created.createResource.resource.values.loyalty).toBe(3);
  });
});

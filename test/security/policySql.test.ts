import { sql } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { queryRows } from "../../src/kernel/db.ts";
import { canReadResource, readableResourcesSql } from "../../src/metadata/index.ts";
import { api, createResource, memberApi } from "../helpers/api.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

/**
 * The access policy in its two forms picks the same resources: `readableResourcesSql` (what resource
 * queries, references and file access run) and `canReadResource` (what the by-id loader asks), for
 * an owner, a viewer with a hidden type, and another workspace's owner — over every row stored,
 * deleted ones and the other workspace's included.
 */
let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

it("the SQL predicate and the in-memory check of the one policy agree, row by row", async () => {
  const owner = api(server, server.owner.token);
  await owner.ok(
    `mutation { createResourceType(input: { key: "secret", name: "Secret" }) { resourceType { key } } }`,
  );
  await owner.ok(
    `mutation { setTypeAccess(input: { resourceType: "secret", role: VIEWER, access: NONE }) { resourceType { key } } }`,
  );
  await createResource(owner, "secret", { name: "hidden from viewers" });
  await createResource(owner, "account", { name: "Acme" });
  const gone = await createResource(owner, "contact", { name: "Gone" });
  await owner.ok(`mutation($id: ID!) { deleteResource(input: { id: $id }) { deletedId } }`, { id: gone.id });
  const tenant = await server.createTenant();
  await createResource(api(server, tenant.token), "account", { name: "Theirs" });
  const viewer = await memberApi(server, owner, "VIEWER");

  const services = server.app.services;
  const all = await queryRows<{
    id: string;
    workspace_id: string;
    type_id: string;
    deleted_at: string | null;
  }>(server.database.db, sql`select id, workspace_id, type_id, deleted_at from resources`);
  const tokens = [server.owner.token, tenant.token, viewer.token];
  for (const token of tokens) {
    const actor = await services.auth.authenticateToken(token);
    const catalog = await services.catalogs.get(actor.workspaceId);
    const inMemory = all
      .filter(
        (row) =>
          row.workspace_id === actor.workspaceId &&
          canReadResource(catalog, actor, { typeId: row.type_id, deletedAt: row.deleted_at }),
      )
      .map((row) => row.id)
      .sort();
    const inSql = (
      await queryRows<{ id: string }>(
        server.database.db,
        sql`select id from resources where ${readableResourcesSql(catalog, actor)} order by id`,
      )
    ).map((row) => row.id);
    expect(inSql).toEqual(inMemory);
    expect(inSql.length).toBeGreaterThan(0);
    for (const type of catalog.types) {
      const ofType = await queryRows<{ id: string }>(
        server.database.db,
        sql`select id from resources where ${readableResourcesSql(catalog, actor, { types: [type] })} order by id`,
      );
      const expected = all
        .filter((row) => row.type_id === type.id && inMemory.includes(row.id))
        .map((row) => row.id)
        .sort();
      expect(ofType.map((row) => row.id)).toEqual(expected);
    }
  }
});

import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/kernel/db.ts";
import { runMaintenance } from "../../src/server/maintenance.ts";
import { type Api, api, createResource } from "../helpers/api.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { upload } from "./helpers.ts";

/** Uploads never attached are purged after PLUGBOARD_FILE_ORPHAN_HOURS; attached ones are kept. */
let server: TestServer;
let owner: Api;

beforeAll(async () => {
  server = await startServer({ PLUGBOARD_FILE_ORPHAN_HOURS: "2" });
  owner = api(server, server.owner.token);
  await owner.ok(
    `mutation { createField(input: { resourceType: "account", key: "deck", name: "Deck", type: FILE }) { field { id } } }`,
  );
});
afterAll(() => server.close());

const age = (id: string, hours: number) =>
  server.database.db.execute(
    sql`update files set created_at = now() - make_interval(hours => ${hours}) where id = ${id}`,
  );
const chunksOf = async (id: string) =>
  (
    await queryRows<{ n: number }>(
      server.database.db,
      sql`select count(*)::int as n from file_chunks where file_id = ${id}`,
    )
  )[0]?.n;

describe("orphan purge", () => {
  it("deletes old unattached uploads with their bytes, and keeps recent and attached ones", async () => {
    const orphan = await upload(server.url, owner.token, new Blob(["forgotten"]));
    const recent = await upload(server.url, owner.token, new Blob(["just now"]));
    const attached = await upload(server.url, owner.token, new Blob(["in use"]));
    const account = await createResource(owner, "account", { name: "Stark", deck: [attached.id] });
    await age(orphan.id, 3);
    await age(attached.id, 3);
    expect(await chunksOf(orphan.id)).toBe(1);

    await runMaintenance(server.app.services);

    const auth = { authorization: `Bearer ${owner.token}` };
    expect((await fetch(`${server.url}/files/${orphan.id}`, { headers: auth })).status).toBe(404);
    expect(await chunksOf(orphan.id)).toBe(0);
    expect((await fetch(`${server.url}/files/${recent.id}`, { headers: auth })).status).toBe(200);
    expect(await (await fetch(`${server.url}/files/${attached.id}`, { headers: auth })).text()).toBe(
      "in use",
    );

    // Deleting the resource keeps its files: it is restorable and the change log names them.
    await owner.ok(`mutation($id: ID!) { deleteResource(input: { id: $id }) { deletedId } }`, {
      id: account.id,
    });
    await runMaintenance(server.app.services);
    await owner.ok(`mutation($id: ID!) { restoreResource(input: { id: $id }) { resource { id } } }`, {
      id: account.id,
    });
    const files = await owner.ok(`query($id: ID!) { resource(id: $id) { files(field: "deck") { id } } }`, {
      id: account.id,
    });
    expect(files.resource.files).toEqual([{ id: attached.id }]);
  });
});

import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pruneChanges } from "../../src/ledger/feed.ts";
import { type Api, api, createResource, type Data, firstError, memberApi, UPDATE } from "../helpers/api.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
let owner: Api;
beforeAll(async () => {
  server = await startServer();
  owner = api(server, server.owner.token);
});
afterAll(() => server?.close());

const CHANGES = `query($after: String, $first: Int, $last: Int, $filter: ChangeFilter) {
  changes(after: $after, first: $first, last: $last, filter: $filter) {
    headCursor pageInfo { hasNextPage endCursor }
    nodes { id kind resourceType resourceId version snapshot actor { kind member { id } }
      fields { fieldId key name previousValue value added removed } } } }`;

async function head(client: Api = owner): Promise<string> {
  return (await client.ok(CHANGES, { first: 0 })).changes.headCursor;
}

async function changesAfter(after: string, filter?: Data, client: Api = owner): Promise<Data[]> {
  return (await client.ok(CHANGES, { after, filter, first: 1000 })).changes.nodes;
}

describe("the changes feed", () => {
  it("records every action with field diffs, in dense order", async () => {
    const start = await head();
    const acme = await createResource(owner, "account", { name: "Acme" });
    const ada = await createResource(owner, "contact", { name: "Ada", email: "ada@example.com" });
    await owner.ok(UPDATE, { id: ada.id, values: { name: "Ada L." } });
    await owner.ok(UPDATE, { id: ada.id, values: { name: "Ada L." } }); // no change: no change row
    await owner.ok(
      `mutation($id: ID!, $m: ID) { assignResource(input: { id: $id, memberId: $m }) { resource { id } } }`,
      { id: ada.id, m: server.owner.memberId },
    );
    await owner.ok(
      `mutation($id: ID!, $p: ID) { moveResource(input: { id: $id, parentId: $p }) { resource { id } } }`,
      { id: ada.id, p: (await createResource(owner, "contact", { name: "Boss" })).id },
    );
    await owner.ok(
      `mutation($id: ID!, $t: [ID!]!) { linkResources(input: { id: $id, field: "accounts", targetIds: $t }) { resource { id } } }`,
      { id: ada.id, t: [acme.id] },
    );
    await owner.ok(`mutation($id: ID!) { deleteResource(input: { id: $id }) { deletedId } }`, { id: ada.id });
    await owner.ok(`mutation($id: ID!) { restoreResource(input: { id: $id }) { resource { id } } }`, {
      id: ada.id,
    });

    const all = await changesAfter(start);
    expect(all.map((c: Data) => c.id)).toEqual(
      Array.from({ length: 9 }, (_, i) => String(Number(start) + i + 1)),
    );
    expect(all.map((c: Data) => `${c.kind}:${c.resourceType}`)).toEqual([
      "CREATED:account",
      "CREATED:contact",
      "UPDATED:contact",
      "UPDATED:contact",
      "CREATED:contact",
      "UPDATED:contact",
      "UPDATED:contact",
      "DELETED:contact",
      "RESTORED:contact",
    ]);
    expect(all[0].actor).toEqual({ kind: "API_KEY", member: { id: server.owner.memberId } });

    // The connector guide's examples, each as a filter.
    const renamed = await changesAfter(start, { kinds: ["UPDATED"], fields: ["name"] });
    expect(renamed).toHaveLength(1);
    expect(renamed[0].fields).toEqual([
      expect.objectContaining({ key: "name", name: "Name", previousValue: "Ada", value: "Ada L." }),
    ]);
    const deleted = await changesAfter(start, { kinds: ["DELETED"] });
    expect(deleted.map((c: Data) => c.resourceId)).toEqual([ada.id]);
    expect(deleted[0].snapshot).toMatchObject({ name: "Ada L.", email: "ada@example.com" });
    expect(deleted[0].fields).toEqual([]);
    const assigned = await changesAfter(start, { fields: ["assignee"] });
    expect(assigned.map((c: Data) => c.fields[0])).toEqual([
      expect.objectContaining({ previousValue: null, value: server.owner.memberId }),
    ]);
    const moved = await changesAfter(start, { fields: ["parent"] });
    expect(moved).toHaveLength(1);
    expect(moved[0].fields[0]).toMatchObject({
      key: "parent",
      previousValue: null,
      value: expect.stringMatching(/^res_/),
    });
    const linked = await changesAfter(start, { fields: ["accounts"] });
    expect(linked).toHaveLength(1);
    expect(linked[0].fields[0]).toMatchObject({
      key: "accounts",
      previousValue: null,
      value: [acme.id],
      added: [acme.id],
      removed: [],
    });
    const byType = await changesAfter(start, { types: ["account"] });
    expect(byType.map((c: Data) => c.resourceId)).toEqual([acme.id]);
    const byResource = await changesAfter(start, { resourceIds: [acme.id], kinds: ["CREATED"] });
    expect(byResource).toHaveLength(1);
  });

  it("snapshots the database's timestamps and the new version, as the resource reports them", async () => {
    const start = await head();
    const task = await createResource(owner, "task", { name: "stamp" });
    await new Promise((resolve) => setTimeout(resolve, 5)); // updatedAt must differ from createdAt
    await owner.ok(UPDATE, { id: task.id, values: { name: "stamped" } });
    const { resource } = await owner.ok(`query($id: ID!) { resource(id: $id) { version values } }`, {
      id: task.id,
    });
    const [created, updated] = await changesAfter(start);
    expect(created.snapshot).toMatchObject({ name: "stamp", createdAt: resource.values.createdAt });
    expect(created.snapshot.updatedAt).toBe(resource.values.createdAt);
    expect(updated.snapshot).toEqual(resource.values);
    expect(updated.snapshot.updatedAt).not.toBe(resource.values.createdAt);
    expect([created.version, updated.version]).toEqual([1, resource.version]);
  });

  it("leaves no change for a rolled-back write", async () => {
    const start = await head();
    const bad = await owner.raw(
      `mutation($items: [CreateResourcesItem!]!) { createResources(input: { type: "contact", items: $items }) { resources { id } } }`,
      {
        items: [{ values: { name: "ok" } }, { values: { email: "bad" } }],
      },
    );
    expect(firstError(bad).code).toBe("BAD_USER_INPUT");
    expect(await changesAfter(start)).toEqual([]);
    expect(await head()).toBe(start);
  });

  it("pages with first/after, samples with last, and advances past scanned changes", async () => {
    const start = await head();
    for (let i = 0; i < 5; i++) await createResource(owner, "task", { name: `t${i}` });
    const page = (await owner.ok(CHANGES, { after: start, first: 2 })).changes;
    expect(page.nodes.map((c: Data) => c.id)).toEqual([String(Number(start) + 1), String(Number(start) + 2)]);
    expect(page.pageInfo).toEqual({ hasNextPage: true, endCursor: String(Number(start) + 2) });
    const sample = (await owner.ok(CHANGES, { last: 2 })).changes;
    expect(sample.nodes.map((c: Data) => c.id)).toEqual([
      String(Number(start) + 4),
      String(Number(start) + 5),
    ]);
    const none = (
      await owner.ok(CHANGES, { after: start, filter: { types: ["account"], kinds: ["DELETED"] } })
    ).changes;
    expect(none.nodes).toEqual([]);
    expect(none.pageInfo).toEqual({ hasNextPage: false, endCursor: none.headCursor });
    for (const [variables, field] of [
      [{ after: "abc" }, "after"],
      [{ first: 1001 }, "first"],
      [{ filter: { types: ["ghost"] } }, "filter.types"],
      [{ filter: { fields: ["ghost"] } }, "filter.fields"],
    ] as const) {
      expect(firstError(await owner.raw(CHANGES, variables)), JSON.stringify(variables)).toMatchObject({
        code: "BAD_USER_INPUT",
        field,
      });
    }
  });

  it("trims every change by the reader's access", async () => {
    await owner.ok(
      `mutation { setFieldAccess(input: { resourceType: "contact", field: "phone", role: VIEWER, access: NONE }) { field { key } } }`,
    );
    await owner.ok(
      `mutation { setTypeAccess(input: { resourceType: "task", role: VIEWER, access: NONE }) { resourceType { key } } }`,
    );
    const viewer = await memberApi(server, owner, "VIEWER");
    const start = await head();
    const grace = await createResource(owner, "contact", { name: "Grace", phone: "+1 555 0100" });
    await owner.ok(UPDATE, { id: grace.id, values: { phone: "+1 555 0199" } });
    await owner.ok(UPDATE, { id: grace.id, values: { phone: "+1 555 0123", title: "RADM" } });
    await createResource(owner, "task", { name: "secret task" });
    const seen = await changesAfter(start, undefined, viewer);
    expect(seen.map((c: Data) => c.kind)).toEqual(["CREATED", "UPDATED"]); // phone-only update and the task are absent
    expect(JSON.stringify(seen)).not.toContain("555");
    expect(seen[1].fields.map((f: Data) => f.key)).toEqual(["title"]);
    expect(await changesAfter(start, { fields: ["title"] }, viewer)).toHaveLength(1);
    expect(firstError(await viewer.raw(CHANGES, { filter: { fields: ["phone"] } }))).toMatchObject({
      code: "BAD_USER_INPUT",
    });
    const tenant = api(server, (await server.createTenant()).token);
    expect(await changesAfter("0", undefined, tenant)).toEqual([]);
  });

  it("expires cursors older than the retention period with the oldest cursor", async () => {
    const before = await head();
    await createResource(owner, "account", { name: "Old" });
    await createResource(owner, "account", { name: "Older" });
    // A create does not wait for its change to be numbered; reading the feed does. Without this,
    // a busy machine's sequencer could leave them unnumbered and the update below would miss them.
    expect(await changesAfter(before)).toHaveLength(2);
    const workspaceId = server.owner.workspaceId;
    await server.database.db.execute(
      sql`update changes set occurred_at = now() - interval '40 days' where workspace_id = ${workspaceId} and seq <= ${Number(before) + 1}`,
    );
    await pruneChanges(server.database.backgroundDb, server.env.PLUGBOARD_CHANGE_RETENTION_DAYS);
    const expired = await owner.raw(CHANGES, { after: before });
    expect(expired.errors?.[0]?.extensions).toMatchObject({
      code: "CURSOR_EXPIRED",
      oldestCursor: String(Number(before) + 1),
    });
    const resumed = await changesAfter(String(Number(before) + 1));
    expect(resumed[0].id).toBe(String(Number(before) + 2));
  });
});

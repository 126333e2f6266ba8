import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, api, CREATE, createResource, firstError, memberApi, UPDATE } from "../helpers/api.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
let owner: Api;
beforeAll(async () => {
  server = await startServer();
  owner = api(server, server.owner.token);
});
afterAll(() => server?.close());

describe("the common actions", () => {
  it("creates, reads, updates partially with optimistic concurrency, deletes and restores", async () => {
    const created = await createResource(owner, "contact", {
      name: "Ada",
      email: "ada@example.com",
      phone: "+44 20 7946 0958",
    });
    expect(created.version).toBe(1);
    const read = await owner.ok(
      `query($id: ID!) { resource(id: $id) { id name typeKey value(field: "email") createdAt createdBy { id } } }`,
      { id: created.id },
    );
    expect(read.resource).toMatchObject({
      name: "Ada",
      typeKey: "contact",
      value: "ada@example.com",
      createdBy: { id: server.owner.memberId },
    });
    const updated = await owner.ok(UPDATE, { id: created.id, values: { title: "Countess" }, v: 1 });
    expect(updated.updateResource.resource.version).toBe(2);
    expect(updated.updateResource.resource.values).toMatchObject({
      email: "ada@example.com",
      title: "Countess",
    });
    const stale = await owner.raw(UPDATE, { id: created.id, values: { title: "x" }, v: 1 });
    expect(stale.errors?.[0]?.extensions).toMatchObject({ code: "CONFLICT", currentVersion: 2 });
    const unchanged = await owner.ok(UPDATE, { id: created.id, values: { title: "Countess" } });
    expect(unchanged.updateResource.resource.version).toBe(2);
    await owner.ok(`mutation($id: ID!) { deleteResource(input: { id: $id }) { deletedId } }`, {
      id: created.id,
    });
    expect(
      (await owner.ok(`query($id: ID!) { resource(id: $id) { id } }`, { id: created.id })).resource,
    ).toBeNull();
    const restored = await owner.ok(
      `mutation($id: ID!) { restoreResource(input: { id: $id }) { resource { id version } } }`,
      { id: created.id },
    );
    expect(restored.restoreResource.resource.version).toBe(4);
  });

  it("reads variables inside a JSON literal, and inline filters", async () => {
    // `values: { name: $name }` embeds a variable in a JSON literal (the executor must resolve it).
    const created = await owner.ok(
      `mutation($name: JSON, $email: JSON) {
        createResource(input: { type: "contact", values: { name: $name, email: $email } }) { resource { id values } }
      }`,
      { name: "Grace", email: "grace@example.com" },
    );
    expect(created.createResource.resource.values).toMatchObject({
      name: "Grace",
      email: "grace@example.com",
    });
    const found = await owner.ok(
      `{ resources(type: "contact", where: { field: "email", eq: "grace@example.com" }) { nodes { id } } }`,
    );
    expect(found.resources.nodes).toEqual([{ id: created.createResource.resource.id }]);
  });

  it("copies, links, unlinks, assigns and moves", async () => {
    const acme = await createResource(owner, "account", { name: "Acme" });
    const initech = await createResource(owner, "account", { name: "Initech" });
    const ada = await createResource(owner, "contact", { name: "Ada", title: "Engineer" });
    const copy = await owner.ok(
      `mutation($id: ID!) { copyResource(input: { id: $id, values: { title: "Copy" } }) { resource { id name values } } }`,
      { id: ada.id },
    );
    expect(copy.copyResource.resource.id).not.toBe(ada.id);
    expect(copy.copyResource.resource).toMatchObject({ name: "Ada", values: { title: "Copy" } });
    const linked = await owner.ok(
      `mutation($id: ID!, $t: [ID!]!) { linkResources(input: { id: $id, field: "accounts", targetIds: $t }) { resource { linked(field: "accounts") { totalCount nodes { name } } } } }`,
      { id: ada.id, t: [acme.id, initech.id] },
    );
    expect(linked.linkResources.resource.linked.nodes.map((n: { name: string }) => n.name)).toEqual([
      "Acme",
      "Initech",
    ]);
    const unlinked = await owner.ok(
      `mutation($id: ID!, $t: [ID!]!) { unlinkResources(input: { id: $id, field: "accounts", targetIds: $t }) { resource { value(field: "accounts") } } }`,
      { id: ada.id, t: [acme.id] },
    );
    expect(unlinked.unlinkResources.resource.value).toEqual([initech.id]);
    const assigned = await owner.ok(
      `mutation($id: ID!, $m: ID) { assignResource(input: { id: $id, memberId: $m }) { resource { assignee { id } } } }`,
      { id: ada.id, m: server.owner.memberId },
    );
    expect(assigned.assignResource.resource.assignee.id).toBe(server.owner.memberId);
    const unassigned = await owner.ok(
      `mutation($id: ID!) { assignResource(input: { id: $id, memberId: null }) { resource { assignee { id } } } }`,
      { id: ada.id },
    );
    expect(unassigned.assignResource.resource.assignee).toBeNull();
    const child = await createResource(owner, "contact", { name: "Child" });
    const moved = await owner.ok(
      `mutation($id: ID!, $p: ID) { moveResource(input: { id: $id, parentId: $p }) { resource { parent { id } } } }`,
      { id: child.id, p: ada.id },
    );
    expect(moved.moveResource.resource.parent.id).toBe(ada.id);
    const children = await owner.ok(`query($id: ID!) { resource(id: $id) { children { nodes { id } } } }`, {
      id: ada.id,
    });
    expect(children.resource.children.nodes).toEqual([{ id: child.id }]);
    const cycle = await owner.raw(
      `mutation($id: ID!, $p: ID) { moveResource(input: { id: $id, parentId: $p }) { resource { id } } }`,
      { id: ada.id, p: child.id },
    );
    expect(firstError(cycle)).toMatchObject({ code: "BAD_USER_INPUT", field: "parentId" });
    const top = await owner.ok(
      `mutation($id: ID!) { moveResource(input: { id: $id, parentId: null }) { resource { parent { id } } } }`,
      { id: child.id },
    );
    expect(top.moveResource.resource.parent).toBeNull();
  });

  it("upserts on a unique field", async () => {
    await owner.ok(
      `mutation { createField(input: { resourceType: "account", key: "externalId", name: "External id", type: TEXT, unique: true }) { field { id } } }`,
    );
    const UPSERT = `mutation($v: JSON!) { upsertResource(input: { type: "account", matchOn: ["externalId"], values: $v }) { created resource { id name } } }`;
    const first = await owner.ok(UPSERT, { v: { externalId: "X-1", name: "First" } });
    const second = await owner.ok(UPSERT, { v: { externalId: "X-1", name: "Second" } });
    expect(first.upsertResource.created).toBe(true);
    expect(second.upsertResource).toEqual({
      created: false,
      resource: { id: first.upsertResource.resource.id, name: "Second" },
    });
    const notUnique = await owner.raw(
      `mutation { upsertResource(input: { type: "account", matchOn: ["industry"], values: { industry: "Retail" } }) { created } }`,
    );
    expect(firstError(notUnique)).toMatchObject({ code: "BAD_USER_INPUT", field: "matchOn" });
  });

  it("enforces unique fields in the database, also under concurrent writers", async () => {
    await owner.ok(
      `mutation { createField(input: { resourceType: "contact", key: "badge", name: "Badge", type: INTEGER, unique: true }) { field { id } } }`,
    );
    const attempts = await Promise.all(
      Array.from({ length: 8 }, () =>
        owner.raw(CREATE, { type: "contact", values: { name: "Racer", badge: 7 } }),
      ),
    );
    const wins = attempts.filter((r) => !r.errors);
    expect(wins).toHaveLength(1);
    for (const lost of attempts.filter((r) => r.errors))
      expect(firstError(lost)).toMatchObject({ code: "CONFLICT", field: "badge" });
  });

  it("replays an idempotent create and refuses the same key with other input", async () => {
    const first = await owner.ok(CREATE, { type: "account", values: { name: "Once" }, key: "create-once" });
    const again = await owner.ok(CREATE, { type: "account", values: { name: "Once" }, key: "create-once" });
    expect(again.createResource.resource.id).toBe(first.createResource.resource.id);
    // The first run returns the row it wrote, the replay reads it again: the same resource.
    expect(again.createResource.resource).toEqual(first.createResource.resource);
    const other = await owner.raw(CREATE, { type: "account", values: { name: "Twice" }, key: "create-once" });
    expect(firstError(other).code).toBe("IDEMPOTENCY_CONFLICT");
    const count = await owner.ok(`{ resources(type: "account", match: { name: "Once" }) { totalCount } }`);
    expect(count.resources.totalCount).toBe(1);
    // Keys are per workspace.
    const tenant = api(server, (await server.createTenant()).token);
    const elsewhere = await tenant.ok(CREATE, {
      type: "account",
      values: { name: "Once" },
      key: "create-once",
    });
    expect(elsewhere.createResource.resource.id).not.toBe(first.createResource.resource.id);
  });

  it("runs bulk operations all-or-nothing, naming the failing item", async () => {
    const BULK = `mutation($items: [CreateResourcesItem!]!) { createResources(input: { type: "contact", items: $items }) { resources { id name } } }`;
    const ok = await owner.ok(BULK, { items: [{ values: { name: "B1" } }, { values: { name: "B2" } }] });
    expect(ok.createResources.resources.map((r: { name: string }) => r.name)).toEqual(["B1", "B2"]);
    const bad = await owner.raw(BULK, {
      items: [{ values: { name: "B3" } }, { values: { name: "B4", email: "nope" } }],
    });
    expect(firstError(bad)).toMatchObject({ code: "BAD_USER_INPUT", field: "items[1].values.email" });
    expect(
      (await owner.ok(`{ resources(type: "contact", match: { name: "B3" }) { totalCount } }`)).resources
        .totalCount,
    ).toBe(0);
    const tooMany = await owner.raw(BULK, {
      items: Array.from({ length: 101 }, (_, i) => ({ values: { name: `n${i}` } })),
    });
    expect(firstError(tooMany)).toMatchObject({ code: "BAD_USER_INPUT", field: "items" });
    const ids = ok.createResources.resources.map((r: { id: string }) => r.id);
    const updated = await owner.ok(
      `mutation($items: [UpdateResourcesItem!]!) { updateResources(input: { items: $items }) { resources { name } } }`,
      { items: ids.map((id: string, i: number) => ({ id, values: { name: `U${i}` } })) },
    );
    expect(updated.updateResources.resources.map((r: { name: string }) => r.name)).toEqual(["U0", "U1"]);
    const deleted = await owner.ok(
      `mutation($ids: [ID!]!) { deleteResources(input: { ids: $ids }) { deletedIds } }`,
      { ids },
    );
    expect(deleted.deleteResources.deletedIds).toEqual(ids);
  });

  it("refuses writes by viewers and read-only keys, and writes to read-only fields", async () => {
    const viewer = await memberApi(server, owner, "VIEWER");
    expect(firstError(await viewer.raw(CREATE, { type: "contact", values: { name: "x" } })).code).toBe(
      "FORBIDDEN",
    );
    const readOnly = await memberApi(server, owner, "MEMBER", ["READ"]);
    expect(firstError(await readOnly.raw(CREATE, { type: "contact", values: { name: "x" } })).code).toBe(
      "FORBIDDEN",
    );
    const createdAt = await owner.raw(CREATE, {
      type: "contact",
      values: { name: "x", createdAt: "2020-01-01T00:00:00Z" },
    });
    expect(firstError(createdAt)).toMatchObject({ code: "FORBIDDEN", field: "createdAt" });
    await owner.ok(
      `mutation { setFieldAccess(input: { resourceType: "contact", field: "title", role: MEMBER, access: READ }) { field { key } } }`,
    );
    const member = await memberApi(server, owner, "MEMBER");
    expect(
      firstError(await member.raw(CREATE, { type: "contact", values: { name: "x", title: "t" } })),
    ).toMatchObject({ code: "FORBIDDEN", field: "title" });
  });

  it("treats another workspace's ids as ids that never existed", async () => {
    const tenant = api(server, (await server.createTenant()).token);
    const theirs = await createResource(tenant, "account", { name: "Theirs" });
    expect(
      await owner.ok(`query($id: ID!) { resource(id: $id) { id } node(id: $id) { id } }`, { id: theirs.id }),
    ).toEqual({ resource: null, node: null });
    const update = await owner.raw(UPDATE, { id: theirs.id, values: { name: "Mine" } });
    expect(firstError(update).code).toBe("NOT_FOUND");
    const reference = await owner.raw(CREATE, {
      type: "contact",
      values: { name: "x", accounts: [theirs.id] },
    });
    expect(firstError(reference)).toMatchObject({ code: "BAD_USER_INPUT", field: "accounts" });
    expect(
      (await tenant.ok(`query($id: ID!) { resource(id: $id) { name } }`, { id: theirs.id })).resource.name,
    ).toBe("Theirs");
  });
});

import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type Api, api, createResource, type Data, firstError, memberApi } from "../helpers/api.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { until } from "../helpers/subscriptions.ts";

/**
 * What a member cannot read does not exist for them — on every path, not only `values`. The
 * viewer here may read contacts but not their name, parent, assignee or creator, nor the `secret`
 * type; the member may not read contacts' unique `code` and may only read their `tier`.
 */
let server: TestServer;
let owner: Api;
let viewer: Api;
let member: Api;
let ada: Data;
let child: Data;
let secret: Data;

const fieldAccess = (resourceType: string, field: string, role: string, access: string) =>
  owner.ok(
    `mutation($t: String!, $f: String!, $r: Role!, $a: Access!) {
      setFieldAccess(input: { resourceType: $t, field: $f, role: $r, access: $a }) { field { key } } }`,
    { t: resourceType, f: field, r: role, a: access },
  );

const createField = (input: Record<string, unknown>) =>
  owner.ok(`mutation($input: CreateFieldInput!) { createField(input: $input) { field { id } } }`, { input });

beforeAll(async () => {
  server = await startServer();
  owner = api(server, server.owner.token);
  viewer = await memberApi(server, owner, "VIEWER");
  member = await memberApi(server, owner, "MEMBER");

  await owner.ok(
    `mutation { createResourceType(input: { key: "secret", name: "Secret" }) { resourceType { key } } }`,
  );
  await owner.ok(
    `mutation { setTypeAccess(input: { resourceType: "secret", role: VIEWER, access: NONE }) { resourceType { key } } }`,
  );
  await owner.ok(
    `mutation { setTypeAccess(input: { resourceType: "secret", role: MEMBER, access: NONE }) { resourceType { key } } }`,
  );
  await createField({
    resourceType: "contact",
    key: "vault",
    name: "Vault",
    type: "REFERENCE",
    referenceType: "secret",
  });
  await createField({ resourceType: "contact", key: "code", name: "Code", type: "TEXT", unique: true });
  await createField({ resourceType: "contact", key: "tier", name: "Tier", type: "TEXT" });
  for (const field of ["name", "parent", "assignee", "createdBy"])
    await fieldAccess("contact", field, "VIEWER", "NONE");
  await fieldAccess("contact", "code", "MEMBER", "NONE");
  await fieldAccess("contact", "tier", "MEMBER", "READ");

  secret = await createResource(owner, "secret", { name: "Launch codes" });
  ada = await createResource(owner, "contact", {
    name: "Ada",
    code: "A-1",
    tier: "gold",
    vault: secret.id,
    assignee: server.owner.memberId,
  });
  child = await createResource(owner, "contact", { name: "Ada's child", parent: ada.id });
  await createResource(owner, "task", { name: "Call Ada", contacts: [ada.id] });
});
afterAll(() => server?.close());

describe("a hidden name", () => {
  it("is null in lists, by id, as a node, through linked and in Change.resource", async () => {
    const data = await viewer.ok(
      `query($id: ID!) {
        resources(type: "contact") { nodes { id name } }
        resource(id: $id) { name }
        node(id: $id) { ... on Resource { name } }
        tasks: resources(type: "task") { nodes { name linked(field: "contacts") { nodes { id name } } } }
      }`,
      { id: ada.id },
    );
    expect(data.resources.nodes.map((n: Data) => n.name)).toEqual([null, null]);
    expect(data.resource.name).toBeNull();
    expect(data.node.name).toBeNull();
    expect(data.tasks.nodes[0].name).toBe("Call Ada"); // task names stay readable
    expect(data.tasks.nodes[0].linked.nodes).toEqual([{ id: ada.id, name: null }]);
    // The feed numbers changes as their transactions leave every snapshot (on a shared PostgreSQL,
    // another database's long transaction can hold that back a moment): wait for them.
    let changes: Data[] = [];
    for (const deadline = Date.now() + 10_000; changes.length < 2 && Date.now() < deadline; ) {
      const feed = await viewer.ok(
        `{ changes(filter: { types: ["contact"] }) { nodes { resourceId resource { name } } } }`,
      );
      changes = feed.changes.nodes;
      if (changes.length < 2) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(changes).toHaveLength(2); // Ada's and her child's CREATED
    for (const change of changes) expect(change.resource).toEqual({ name: null });
  });

  it("is null in a subscription's Change.resource", async () => {
    const received: Data[] = [];
    const client = createClient({
      url: server.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${viewer.token}` },
      retryAttempts: 0,
    });
    try {
      client.subscribe(
        {
          query: `subscription { changes(filter: { types: ["contact"] }) { resourceId resource { name } } }`,
        },
        { next: (result) => received.push(result), error: () => {}, complete: () => {} },
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      await owner.ok(
        `mutation($id: ID!) { updateResource(input: { id: $id, values: { title: "Countess" } }) { resource { id } } }`,
        { id: ada.id },
      );
      await until(() => received.length > 0, "the change to arrive");
      expect(received[0].errors).toBeUndefined();
      expect(received[0].data.changes).toEqual({ resourceId: ada.id, resource: { name: null } });
    } finally {
      await client.dispose();
    }
  });
});

describe("hidden parent, assignee and creator", () => {
  it("make children empty and parent, assignee and createdBy null, without an error", async () => {
    const result = await viewer.raw(
      `query($ada: ID!, $child: ID!) {
        ada: resource(id: $ada) { children { nodes { id } totalCount } assignee { id } createdBy { id } }
        child: resource(id: $child) { parent { id } }
      }`,
      { ada: ada.id, child: child.id },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data.ada).toEqual({
      children: { nodes: [], totalCount: 0 },
      assignee: null,
      createdBy: null,
    });
    expect(result.data.child).toEqual({ parent: null });
    // The owner still sees the relationship.
    const mine = await owner.ok(`query($id: ID!) { resource(id: $id) { children { nodes { id } } } }`, {
      id: ada.id,
    });
    expect(mine.resource.children.nodes).toEqual([{ id: child.id }]);
  });
});

describe("a reference to a hidden type", () => {
  it("does not exist for the reader: by id and as a node it is null", async () => {
    const BY_ID = `query($id: ID!) { resource(id: $id) { id } node(id: $id) { id } }`;
    const hidden = await viewer.raw(BY_ID, { id: secret.id });
    expect(hidden.errors).toBeUndefined();
    expect(hidden.data).toEqual({ resource: null, node: null });
    expect(await owner.ok(BY_ID, { id: secret.id })).toEqual({
      resource: { id: secret.id },
      node: { id: secret.id },
    });
  });

  it("is not a field for the reader: not listed, no value, no referenceType", async () => {
    const data = await viewer.ok(
      `query($id: ID!) {
        resourceType(key: "contact") { fields { key referenceType { key } } field(key: "vault") { key } }
        customFields(resourceType: "contact") { key }
        resource(id: $id) { values }
      }`,
      { id: ada.id },
    );
    const keys = data.resourceType.fields.map((f: Data) => f.key);
    expect(keys).not.toContain("vault");
    expect(JSON.stringify(data)).not.toContain("secret");
    expect(data.resourceType.field).toBeNull();
    expect(data.customFields.map((f: Data) => f.key)).not.toContain("vault");
    expect(data.resource.values).not.toHaveProperty("vault");
    expect(JSON.stringify(data.resource.values)).not.toContain(secret.id);
  });

  it("cannot be written, and the refusal does not name the hidden type", async () => {
    const result = await member.raw(
      `mutation($values: JSON) { createResource(input: { type: "contact", values: $values }) { resource { id } } }`,
      { values: { name: "Probe", vault: secret.id } },
    );
    expect(firstError(result)).toMatchObject({ code: "BAD_USER_INPUT", field: "vault" });
    expect(firstError(result).message).not.toContain("secret");
  });
});

describe("copyResource", () => {
  const COPY = `mutation($id: ID!) { copyResource(input: { id: $id }) { resource { id name values } } }`;

  it("copies only what the caller could have written: no hidden unique value, no read-only value", async () => {
    const result = await member.raw(COPY, { id: ada.id });
    expect(result.errors).toBeUndefined();
    const copy = result.data.copyResource.resource;
    expect(copy.name).toBe("Ada");
    expect(copy.values).toMatchObject({ tier: null });
    const stored = await owner.ok(`query($id: ID!) { resource(id: $id) { values } }`, { id: copy.id });
    expect(stored.resource.values).toMatchObject({ name: "Ada", code: null, tier: null, vault: null });
    expect(stored.resource.values.assignee).toBe(server.owner.memberId); // writable: copied
  });

  it("answers a unique violation on a hidden field without naming it", async () => {
    const first = await createResource(owner, "contact", { name: "First", code: "Z-1" });
    await member.ok(`mutation($id: ID!) { deleteResource(input: { id: $id }) { deletedId } }`, {
      id: first.id,
    });
    await createResource(owner, "contact", { name: "Second", code: "Z-1" });
    const result = await member.raw(
      `mutation($id: ID!) { restoreResource(input: { id: $id }) { resource { id } } }`,
      {
        id: first.id,
      },
    );
    const error = firstError(result);
    expect(error.code).toBe("CONFLICT");
    expect(error.field).not.toBe("code");
    expect(error.message).not.toMatch(/code/i);
  });
});

describe("a required field the writer cannot read", () => {
  it("is refused without naming it", async () => {
    await owner.ok(
      `mutation { createResourceType(input: { key: "ticket", name: "Ticket" }) { resourceType { key } } }`,
    );
    await createField({
      resourceType: "ticket",
      key: "ledger",
      name: "Ledger",
      type: "TEXT",
      required: true,
    });
    await fieldAccess("ticket", "ledger", "MEMBER", "NONE");
    const result = await member.raw(
      `mutation { createResource(input: { type: "ticket", values: { name: "T" } }) { resource { id } } }`,
    );
    const error = firstError(result);
    expect(error.code).toBe("BAD_USER_INPUT");
    expect(error.field).not.toBe("ledger");
    expect(error.message).not.toMatch(/ledger/i);
  });
});

describe("createdAt and updatedAt", () => {
  it("cannot be hidden: every resource shows them", async () => {
    for (const field of ["createdAt", "updatedAt"]) {
      const result = await owner.raw(
        `mutation($f: String!) { setFieldAccess(input: { resourceType: "contact", field: $f, role: VIEWER, access: NONE }) { field { key } } }`,
        { f: field },
      );
      expect(firstError(result)).toMatchObject({ code: "BAD_USER_INPUT", field: "field" });
    }
    const data = await viewer.ok(`{ resourceType(key: "contact") { fields { key } } }`);
    expect(data.resourceType.fields.map((f: Data) => f.key)).toEqual(
      expect.arrayContaining(["createdAt", "updatedAt"]),
    );
  });
});

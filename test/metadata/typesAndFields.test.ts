import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, api, createResource, firstError, memberApi } from "../helpers/api.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
let owner: Api;
beforeAll(async () => {
  server = await startServer();
  owner = api(server, server.owner.token);
});
afterAll(() => server?.close());

const TYPE = `query($key: String!) { resourceType(key: $key) { id key name pluralName system
  fields { id key name type system custom required unique editable options referenceType { key } }
  capabilities { create update delete copy link assign move } updatedAt } }`;

describe("introspection for connectors", () => {
  it("lists the built-in types with system and built-in fields", async () => {
    const data = await owner.ok("{ resourceTypes { key system fields { key } } }");
    const byKey = Object.fromEntries(data.resourceTypes.map((t: { key: string }) => [t.key, t]));
    expect(Object.keys(byKey).sort()).toEqual(["account", "contact", "task"]);
    const system = ["name", "parent", "assignee", "createdAt", "updatedAt", "createdBy"];
    expect(byKey.account.fields.map((f: { key: string }) => f.key)).toEqual([
      ...system,
      "domain",
      "industry",
    ]);
    expect(byKey.contact.fields.map((f: { key: string }) => f.key)).toEqual([
      ...system,
      "email",
      "phone",
      "title",
      "accounts",
    ]);
    expect(byKey.task.fields.map((f: { key: string }) => f.key)).toEqual([
      ...system,
      "status",
      "dueDate",
      "contacts",
    ]);
    const contact = (await owner.ok(TYPE, { key: "contact" })).resourceType;
    const accounts = contact.fields.find((f: { key: string }) => f.key === "accounts");
    expect(accounts).toMatchObject({
      type: "LINKS",
      referenceType: { key: "account" },
      editable: true,
      custom: false,
    });
    const createdAt = contact.fields.find((f: { key: string }) => f.key === "createdAt");
    expect(createdAt).toMatchObject({ type: "DATETIME", editable: false, system: true });
    expect(contact.capabilities).toEqual({
      create: true,
      update: true,
      delete: true,
      copy: true,
      link: true,
      assign: true,
      move: true,
    });
  });

  it("creates, renames and deletes custom types and fields, with stable field ids", async () => {
    const created = await owner.ok(
      `mutation { createResourceType(input: { key: "deal", name: "Deal", pluralName: "Deals", parentType: "account" }) { resourceType { key system parentType { key } fields { key } } } }`,
    );
    expect(created.createResourceType.resourceType).toMatchObject({
      key: "deal",
      system: false,
      parentType: { key: "account" },
    });
    const field = await owner.ok(
      `mutation { createField(input: { resourceType: "deal", key: "amount", name: "Amount", type: NUMBER }) { field { id key name custom editable } } }`,
    );
    const id = field.createField.field.id;
    expect(field.createField.field).toMatchObject({ key: "amount", custom: true, editable: true });
    const renamed = await owner.ok(
      `mutation { updateField(input: { resourceType: "deal", key: "amount", name: "Deal value" }) { field { id key name } } }`,
    );
    expect(renamed.updateField.field).toEqual({ id, key: "amount", name: "Deal value" });
    const custom = await owner.ok(`{ customFields(resourceType: "deal") { id key name } }`);
    expect(custom.customFields).toEqual([{ id, key: "amount", name: "Deal value" }]);
    await createResource(owner, "deal", { name: "Big", amount: 5 });
    const deleted = await owner.ok(
      `mutation { deleteField(input: { resourceType: "deal", key: "amount" }) { deletedId } }`,
    );
    expect(deleted.deleteField.deletedId).toBe(id);
    const values = await owner.ok(`{ resources(type: "deal") { nodes { values } } }`);
    expect(values.resources.nodes[0].values).not.toHaveProperty("amount");
    // A type with resources needs force.
    const refused = await owner.raw(`mutation { deleteResourceType(input: { key: "deal" }) { deletedId } }`);
    expect(firstError(refused)).toMatchObject({ code: "BAD_USER_INPUT", field: "force" });
    await owner.ok(`mutation { deleteResourceType(input: { key: "deal", force: true }) { deletedId } }`);
    expect((await owner.ok(`{ resourceType(key: "deal") { key } }`)).resourceType).toBeNull();
  });

  it("adds custom fields to system types and refuses bad definitions", async () => {
    await owner.ok(
      `mutation { createField(input: { resourceType: "contact", key: "tier", name: "Tier", type: SELECT, options: ["gold", "silver"] }) { field { id } } }`,
    );
    const cases: [string, string][] = [
      [`createField(input: { resourceType: "contact", key: "Bad-Key", name: "x", type: TEXT })`, "key"],
      [`createField(input: { resourceType: "contact", key: "name", name: "x", type: TEXT })`, "key"],
      [
        `createField(input: { resourceType: "contact", key: "x'; drop table resources; --", name: "x", type: TEXT })`,
        "key",
      ],
      [`createField(input: { resourceType: "nope", key: "x", name: "x", type: TEXT })`, "resourceType"],
      [`createField(input: { resourceType: "contact", key: "s", name: "S", type: SELECT })`, "options"],
      [
        `createField(input: { resourceType: "contact", key: "r", name: "R", type: REFERENCE })`,
        "referenceType",
      ],
      [
        `createField(input: { resourceType: "contact", key: "b", name: "B", type: BOOLEAN, unique: true })`,
        "unique",
      ],
      [`deleteField(input: { resourceType: "contact", key: "email" })`, "key"],
      [`deleteResourceType(input: { key: "account" })`, "key"],
      [`createResourceType(input: { key: "9x", name: "X" })`, "key"],
    ];
    for (const [mutation, field] of cases) {
      const result = await owner.raw(`mutation { ${mutation} { __typename } }`);
      expect(firstError(result), mutation).toMatchObject({ code: "BAD_USER_INPUT", field });
    }
    const duplicate = await owner.raw(
      `mutation { createField(input: { resourceType: "contact", key: "tier", name: "T", type: TEXT }) { field { id } } }`,
    );
    expect(firstError(duplicate).code).toBe("CONFLICT");
    const fields = await owner.ok(`{ resourceType(key: "contact") { fields { key } } }`);
    expect(fields.resourceType.fields.map((f: { key: string }) => f.key)).not.toContain("Bad-Key");
  });

  it("lets only owners and admins define types and fields", async () => {
    const member = await memberApi(server, owner, "MEMBER");
    const result = await member.raw(
      `mutation { createResourceType(input: { key: "secret", name: "Secret" }) { resourceType { key } } }`,
    );
    expect(firstError(result).code).toBe("FORBIDDEN");
    expect((await owner.ok(`{ resourceType(key: "secret") { key } }`)).resourceType).toBeNull();
  });

  it("hides unreadable types and fields, and marks unwritable ones", async () => {
    const viewer = await memberApi(server, owner, "VIEWER");
    await owner.ok(
      `mutation { setTypeAccess(input: { resourceType: "task", role: VIEWER, access: NONE }) { resourceType { key } } }`,
    );
    await owner.ok(
      `mutation { setFieldAccess(input: { resourceType: "contact", field: "phone", role: VIEWER, access: NONE }) { field { key } } }`,
    );
    const types = await viewer.ok("{ resourceTypes { key } }");
    expect(types.resourceTypes.map((t: { key: string }) => t.key)).not.toContain("task");
    const contact = (await viewer.ok(TYPE, { key: "contact" })).resourceType;
    expect(contact.fields.map((f: { key: string }) => f.key)).not.toContain("phone");
    expect(contact.fields.every((f: { editable: boolean }) => !f.editable)).toBe(true);
    expect(contact.capabilities.create).toBe(false);
    expect((await viewer.ok(`{ resourceType(key: "task") { key } }`)).resourceType).toBeNull();
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, api, CREATE, createResource, firstError, memberApi, UPDATE } from "../helpers/api.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
let owner: Api;
beforeAll(async () => {
  server = await startServer();
  owner = api(server, server.owner.token);
  await owner.ok(
    `mutation { createResourceType(input: { key: "ticket", name: "Ticket" }) { resourceType { key } } }`,
  );
});
afterAll(() => server?.close());

const FIELD = `query($type: String!, $key: String!) { resourceType(key: $type) { field(key: $key) {
  key createable updateable defaultValue options choices { value label archived } operators sortable maxLength helpText } } }`;
const field = async (client: Api, type: string, key: string) =>
  (await client.ok(FIELD, { type, key })).resourceType.field;

describe("Field metadata for dynamic forms", () => {
  it("describes built-in and system fields: operators, sortable, maxLength, createable", async () => {
    expect(await field(owner, "task", "status")).toEqual({
      key: "status",
      createable: true,
      updateable: true,
      defaultValue: null,
      options: ["todo", "doing", "done"],
      choices: [
        { value: "todo", label: "todo", archived: false },
        { value: "doing", label: "doing", archived: false },
        { value: "done", label: "done", archived: false },
      ],
      operators: ["eq", "ne", "in", "notIn", "isNull"],
      sortable: true,
      maxLength: null,
      helpText: null,
    });
    expect(await field(owner, "task", "contacts")).toMatchObject({
      sortable: false,
      operators: ["contains", "isNull"],
    });
    expect(await field(owner, "contact", "email")).toMatchObject({ maxLength: 320 });
    expect(await field(owner, "task", "createdAt")).toMatchObject({ createable: false, updateable: false });
    const viewer = await memberApi(server, owner, "VIEWER");
    expect(await field(viewer, "task", "status")).toMatchObject({ createable: false, updateable: false });
  });

  it("stores choices with labels, a default, a cap and help text; applies the default on create", async () => {
    const created = await owner.ok(
      `mutation { createField(input: { resourceType: "ticket", key: "priority", name: "Priority", type: SELECT,
        choices: [{ value: "p1", label: "Urgent" }, { value: "p2", label: "Normal" }, { value: "p3", label: "Low" }],
        defaultValue: "p2", helpText: "How soon it needs an answer." }) { field { key defaultValue helpText options } } }`,
    );
    expect(created.createField.field).toEqual({
      key: "priority",
      defaultValue: "p2",
      helpText: "How soon it needs an answer.",
      options: ["p1", "p2", "p3"],
    });
    await owner.ok(
      `mutation { createField(input: { resourceType: "ticket", key: "summary", name: "Summary", type: TEXT, maxLength: 5 }) { field { key } } }`,
    );
    expect(await field(owner, "ticket", "summary")).toMatchObject({ maxLength: 5 });
    const ticket = await createResource(owner, "ticket", { name: "T1" });
    expect(ticket.values.priority).toBe("p2");
    const explicit = await createResource(owner, "ticket", { name: "T2", priority: null });
    expect(explicit.values.priority).toBeNull();
    const tooLong = await owner.raw(CREATE, { type: "ticket", values: { summary: "abcdef" } });
    expect(firstError(tooLong)).toMatchObject({ code: "BAD_USER_INPUT", field: "summary" });
  });

  it("archiving an option keeps old values readable and refuses new writes of it", async () => {
    const old = await createResource(owner, "ticket", { name: "old", priority: "p3" });
    await owner.ok(
      `mutation { updateField(input: { resourceType: "ticket", key: "priority",
        choices: [{ value: "p1", label: "Urgent" }, { value: "p2", label: "Normal" }, { value: "p3", label: "Low", archived: true }] }) { field { key } } }`,
    );
    const described = await field(owner, "ticket", "priority");
    expect(described.options).toEqual(["p1", "p2"]);
    expect(described.choices[2]).toEqual({ value: "p3", label: "Low", archived: true });
    const read = await owner.ok(`query($id: ID!) { resource(id: $id) { values } }`, { id: old.id });
    expect(read.resource.values.priority).toBe("p3");
    const filtered = await owner.ok(
      `{ resources(type: "ticket", where: { field: "priority", eq: "p3" }) { nodes { id } } }`,
    );
    expect(filtered.resources.nodes.map((n: { id: string }) => n.id)).toEqual([old.id]);
    const refused = await owner.raw(UPDATE, { id: old.id, values: { priority: "p3" } });
    expect(firstError(refused)).toMatchObject({ code: "BAD_USER_INPUT", field: "priority" });
    expect(firstError(refused).message).toMatch(/archived/);
    const created = await owner.raw(CREATE, { type: "ticket", values: { priority: "p3" } });
    expect(firstError(created)).toMatchObject({ code: "BAD_USER_INPUT", field: "priority" });
  });

  it("refuses defaults and settings that do not fit the field, writing nothing", async () => {
    const cases: [string, string][] = [
      [`key: "a1", name: "A", type: NUMBER, defaultValue: "many"`, "defaultValue"],
      [`key: "a2", name: "A", type: SELECT, options: ["x"], defaultValue: "y"`, "defaultValue"],
      [`key: "a3", name: "A", type: REFERENCE, referenceType: "task", defaultValue: "res_1"`, "defaultValue"],
      [`key: "a4", name: "A", type: NUMBER, maxLength: 3`, "maxLength"],
      [`key: "a5", name: "A", type: TEXT, maxLength: 3, defaultValue: "abcd"`, "defaultValue"],
      [`key: "a6", name: "A", type: SELECT, options: ["x"], choices: [{ value: "x" }]`, "choices"],
      [`key: "a7", name: "A", type: SELECT, choices: [{ value: "x", archived: true }]`, "choices"],
      [`key: "a8", name: "A", type: TEXT, unique: true, defaultValue: "same"`, "defaultValue"],
    ];
    for (const [input, argument] of cases) {
      const result = await owner.raw(
        `mutation { createField(input: { resourceType: "ticket", ${input} }) { field { key } } }`,
      );
      expect(firstError(result), input).toMatchObject({ code: "BAD_USER_INPUT", field: argument });
    }
    const keys = (
      await owner.ok(`{ resourceType(key: "ticket") { fields { key } } }`)
    ).resourceType.fields.map((f: { key: string }) => f.key);
    expect(keys.filter((k: string) => /^a\d$/.test(k))).toEqual([]);
    const archiveDefault = await owner.raw(
      `mutation { updateField(input: { resourceType: "ticket", key: "priority",
        choices: [{ value: "p1" }, { value: "p2", archived: true }, { value: "p3" }] }) { field { key } } }`,
    );
    expect(firstError(archiveDefault)).toMatchObject({ code: "BAD_USER_INPUT", field: "defaultValue" });
    const cleared = await owner.ok(
      `mutation { updateField(input: { resourceType: "ticket", key: "priority", defaultValue: null }) { field { defaultValue } } }`,
    );
    expect(cleared.updateField.field.defaultValue).toBeNull();
  });
});

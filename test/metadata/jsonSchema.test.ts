import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, api, CREATE, memberApi } from "../helpers/api.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
let owner: Api;
let viewer: Api;
beforeAll(async () => {
  server = await startServer();
  owner = api(server, server.owner.token);
  viewer = await memberApi(server, owner, "VIEWER");
  await owner.ok(
    `mutation { createResourceType(input: { key: "deal", name: "Deal" }) { resourceType { key } } }`,
  );
  for (const input of [
    `key: "amount", name: "Amount", type: NUMBER, required: true`,
    `key: "stage", name: "Stage", type: SELECT, choices: [{ value: "new" }, { value: "won" }, { value: "gone", archived: true }], defaultValue: "new"`,
    `key: "secret", name: "Secret", type: TEXT`,
    `key: "closes", name: "Closes", type: DATE`,
    `key: "tags", name: "Tags", type: MULTI_SELECT, options: ["a", "b"]`,
  ]) {
    await owner.ok(`mutation { createField(input: { resourceType: "deal", ${input} }) { field { key } } }`);
  }
  await owner.ok(
    `mutation { setFieldAccess(input: { resourceType: "deal", field: "secret", role: VIEWER, access: NONE }) { field { key } } }`,
  );
});
afterAll(() => server?.close());

const SCHEMA = `query($mode: JsonSchemaMode!) { resourceType(key: "deal") { jsonSchema(mode: $mode) } }`;
const schemaFor = async (client: Api, mode: string) =>
  (await client.ok(SCHEMA, { mode })).resourceType.jsonSchema;

function compile(schema: object) {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats.default(ajv);
  return ajv.compile(schema);
}

describe("ResourceType.jsonSchema", () => {
  it("CREATE: writable fields with required, valid 2020-12, and a real createResource input validates", async () => {
    const schema = await schemaFor(owner, "CREATE");
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(schema.required).toEqual(["amount"]);
    expect(Object.keys(schema.properties)).not.toContain("createdAt");
    expect(schema.properties.stage).toMatchObject({ enum: ["new", "won"], default: "new" });
    const validate = compile(schema);
    const values = {
      name: "Big deal",
      amount: 1200,
      stage: "won",
      closes: "2026-12-31",
      tags: ["a"],
      secret: null,
    };
    expect(validate(values), JSON.stringify(validate.errors)).toBe(true);
    await owner.ok(CREATE, { type: "deal", values });
    expect(validate({ name: "no amount" })).toBe(false);
    expect(validate({ amount: 1, stage: "gone" })).toBe(false);
    expect(validate({ amount: 1, bogus: true })).toBe(false);
    expect(validate({ amount: 1, closes: "31/12/2026" })).toBe(false);
  });

  it("UPDATE has no required; READ marks read-only fields and accepts stored values", async () => {
    const update = await schemaFor(owner, "UPDATE");
    expect(update.required).toBeUndefined();
    expect(compile(update)({ stage: "new" })).toBe(true);
    const read = await schemaFor(owner, "READ");
    expect(read.properties.createdAt).toMatchObject({ readOnly: true, format: "date-time" });
    expect(read.properties.stage.enum).toEqual(["new", "won", "gone"]);
    const stored = await owner.ok(`{ resources(type: "deal") { nodes { values } } }`);
    const validate = compile(read);
    for (const node of stored.resources.nodes)
      expect(validate(node.values), JSON.stringify(validate.errors)).toBe(true);
  });

  it("a VIEWER's schemas omit hidden fields; CREATE and UPDATE are empty of properties", async () => {
    const read = await schemaFor(viewer, "READ");
    expect(Object.keys(read.properties)).not.toContain("secret");
    expect(read.properties.amount.readOnly).toBe(true);
    compile(read);
    const create = await schemaFor(viewer, "CREATE");
    expect(create.properties).toEqual({});
    expect(JSON.stringify([read, create])).not.toContain("secret");
  });
});

import { sql } from "drizzle-orm";
import { GraphQLError } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/kernel/logger.ts";
import { createErrorMasker } from "../../src/server/plugins/maskErrors.ts";
import { type Api, api, CREATE } from "../helpers/api.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
let owner: Api;
beforeAll(async () => {
  server = await startServer();
  owner = api(server, server.owner.token);
  await owner.ok(
    `mutation { createField(input: { resourceType: "contact", key: "meta", name: "Meta", type: JSON }) { field { key } } }`,
  );
});
afterAll(() => server?.close());

const LIST = `query($where: ResourceFilter) { resources(type: "contact", where: $where) { edges { node { id } } } }`;

function nested(depth: number, leaf: unknown, wrap: (inner: unknown) => unknown): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = wrap(value);
  return value;
}

async function contactCount(): Promise<number> {
  const data = await owner.ok(`{ resources(type: "contact", first: 500) { edges { node { id } } } }`);
  return data.resources.edges.length;
}

describe("strings PostgreSQL cannot store (NUL, lone surrogates) are BAD_USER_INPUT", () => {
  for (const [label, bad] of [
    ["a NUL character", "Ada\u0000Lovelace"],
    ["a lone high surrogate", "Ada\ud800"],
    ["a lone low surrogate", "\udc00Ada"],
  ] as const) {
    it(`refuses ${label} in a resource value, naming the field, and writes nothing`, async () => {
      const before = await contactCount();
      const result = await owner.raw(CREATE, { type: "contact", values: { name: bad } });
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "values.name" });
      expect(result.errors?.[0]?.message).toMatch(/NUL|surrogate/);
      expect(await contactCount()).toBe(before);
    });
  }

  it("refuses one inside a JSON value, a JSON key, a filter, a type key and a literal", async () => {
    const inJson = await owner.raw(CREATE, {
      type: "contact",
      values: { name: "Ok", meta: { a: ["x\u0000"] } },
    });
    expect(inJson.errors?.[0]?.extensions).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "values.meta.a[0]",
    });
    const inKey = await owner.raw(CREATE, {
      type: "contact",
      values: { name: "Ok", meta: { "k\u0000": 1 } },
    });
    expect(inKey.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "values.meta" });
    const inFilter = await owner.raw(LIST, { where: { field: "name", eq: "\ud800" } });
    expect(inFilter.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "where.eq" });
    const inTypeKey = await owner.raw(
      `mutation($key: String!) { createResourceType(input: { key: $key, name: "X" }) { resourceType { key } } }`,
      { key: "deal\u0000" },
    );
    expect(inTypeKey.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "key" });
    const literal = await owner.raw(
      `mutation { createResource(input: { type: "contact", values: { name: "a\\u0000b" } }) { resource { id } } }`,
    );
    expect(literal.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT" });
    expect(literal.errors?.[0]?.message).toMatch(/NUL/);
  });
});

describe("PostgreSQL's own refusal of such a string (the backstop)", () => {
  it("is BAD_USER_INPUT, not INTERNAL_SERVER_ERROR", async () => {
    const refusal = await server.database.db.execute(sql`select ${"a\u0000b"}::text as t`).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(Error);
    const masked = createErrorMasker(createLogger("silent"))(
      new GraphQLError("failed", { originalError: refusal as Error, path: ["createResource"] }),
    ) as GraphQLError;
    expect(masked.extensions.code).toBe("BAD_USER_INPUT");
    expect(masked.path).toEqual(["createResource"]);
  });
});

describe("very deep nesting is BAD_USER_INPUT", () => {
  it("refuses a JSON value nested deeper than the limit, and accepts one within it", async () => {
    const ok = await owner.raw(CREATE, {
      type: "contact",
      values: { name: "Shallow", meta: nested(20, 1, (inner) => ({ a: inner })) },
    });
    expect(ok.errors).toBeUndefined();
    const deep = await owner.raw(CREATE, {
      type: "contact",
      values: { name: "Deep", meta: nested(100, 1, (inner) => ({ a: inner })) },
    });
    expect(deep.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT" });
    expect(deep.errors?.[0]?.message).toMatch(/nest/i);
  });

  it("refuses a filter nested deeper than the limit, as a variable and as a literal", async () => {
    const shallow = await owner.raw(LIST, {
      where: nested(5, { field: "name", eq: "x" }, (f) => ({ not: f })),
    });
    expect(shallow.errors, JSON.stringify(shallow.errors)).toBeUndefined();
    for (const depth of [40, 10_000]) {
      // Written out by hand: JSON.stringify itself recurses once per level.
      const leaf = `{"field":"name","eq":"x"}`;
      for (const [open, close] of [
        [`{"not":`, "}"],
        [`{"and":[`, "]}"],
      ] as const) {
        const where = `${open.repeat(depth)}${leaf}${close.repeat(depth)}`;
        const response = await fetch(server.graphqlUrl, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${owner.token}` },
          body: `{"query":${JSON.stringify(LIST)},"variables":{"where":${where}}}`,
        });
        const body = (await response.json()) as { errors?: { extensions?: object }[] };
        expect(body.errors?.[0]?.extensions, `${open} × ${depth}`).toMatchObject({ code: "BAD_USER_INPUT" });
      }
    }
    for (const depth of [40, 3_000]) {
      let literal = `{ field: "name", eq: "x" }`;
      for (let i = 0; i < depth; i++) literal = `{ not: ${literal} }`;
      const result = await owner.raw(
        `{ resources(type: "contact", where: ${literal}) { edges { node { id } } } }`,
      );
      expect(result.errors?.[0]?.extensions, `literal depth ${depth}`).toMatchObject({
        code: "BAD_USER_INPUT",
      });
    }
  });
});

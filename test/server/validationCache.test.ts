import type { ValidationRule } from "graphql";
import { createSchema, createYoga, type Plugin } from "graphql-yoga";
import { describe, expect, it } from "vitest";
import { useValidationCache } from "../../src/server/plugins/validationCache.ts";

/** A Yoga set up as graphql.ts sets it up, with a rule that counts the documents it validates. */
function server() {
  const validated: string[] = [];
  const CountingRule: ValidationRule = (context) => {
    validated.push(context.getDocument().loc?.source.body ?? "");
    return {};
  };
  const counting: Plugin = { onValidate: ({ addValidationRule }) => addValidationRule(CountingRule) };
  const yoga = createYoga({
    schema: createSchema({ typeDefs: "type Query { hello(name: String): String }", resolvers: {} }),
    parserAndValidationCache: { validationCache: false },
    plugins: [useValidationCache(), counting],
  });
  const post = async (query: string) => {
    const response = await yoga.fetch("http://localhost/graphql", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query }),
    });
    return (await response.json()) as { data?: unknown; errors?: { message: string }[] };
  };
  return { post, validated };
}

describe("validation cache", () => {
  it("validates a document once, with every rule, and answers the same from the cache", async () => {
    const { post, validated } = server();
    const query = `{ hello(name: "a") }`;
    expect(await post(query)).toEqual({ data: { hello: null } });
    expect(await post(query)).toEqual({ data: { hello: null } });
    expect(validated).toEqual([query]);
    await post(`{ hello(name: "b") }`);
    expect(validated).toEqual([query, `{ hello(name: "b") }`]);
  });

  it("gives a document's validation errors again on every request", async () => {
    const { post, validated } = server();
    const first = await post("{ goodbye }");
    const second = await post("{ goodbye }");
    expect(first.errors?.[0]?.message).toMatch(/Cannot query field "goodbye"/);
    expect(second).toEqual(first);
    expect(validated).toHaveLength(1);
  });
});

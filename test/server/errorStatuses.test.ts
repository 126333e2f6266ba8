import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, type LoggedApp, startLoggedApp } from "../faults/appWithLog.ts";

let app: LoggedApp;
beforeAll(async () => {
  app = await startLoggedApp();
});
afterAll(() => app?.close());

interface Reply {
  status: number;
  type: string | null;
  body: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

async function post(body: string, headers: Record<string, string> = {}, method = "POST"): Promise<Reply> {
  const response = await fetch(app.graphqlUrl, {
    method,
    headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN_TOKEN}`, ...headers },
    ...(method === "GET" ? {} : { body }),
  });
  const text = await response.text();
  return { status: response.status, type: response.headers.get("content-type"), body: JSON.parse(text) };
}

const query = (q: string, variables: Record<string, unknown> = {}) => JSON.stringify({ query: q, variables });

describe("request errors over HTTP (GraphQL over HTTP; README: Errors)", () => {
  it("answers 400 with BAD_USER_INPUT and a reason with the default Accept (none, or */*)", async () => {
    for (const accept of [{}, { accept: "*/*" }] as Record<string, string>[]) {
      const syntax = await post(query("{ viewer { "), accept);
      expect(syntax.status).toBe(400);
      expect(syntax.type).toContain("application/json");
      expect(syntax.body.data).toBeUndefined();
      expect(syntax.body.errors?.[0]?.extensions, JSON.stringify(syntax.body)).toMatchObject({
        code: "BAD_USER_INPUT",
        reason: "syntax",
      });

      const validation = await post(query("{ viewer { nope } }"), accept);
      expect(validation.status).toBe(400);
      expect(validation.body.errors?.[0]?.extensions).toMatchObject({
        code: "BAD_USER_INPUT",
        reason: "validation",
      });

      const variables = await post(
        query("query($b: Boolean!) { __typename @skip(if: $b) }", { b: "many" }),
        accept,
      );
      expect(variables.status).toBe(400);
      expect(variables.body.errors?.[0]?.extensions).toMatchObject({
        code: "BAD_USER_INPUT",
        reason: "variables",
      });
    }
  });

  it("keeps 200 for request errors when the client asks for application/json, as the spec says", async () => {
    const syntax = await post(query("{ viewer { "), { accept: "application/json" });
    expect(syntax.status).toBe(200);
    expect(syntax.body.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", reason: "syntax" });
    const strict = await post(query("{ viewer { "), { accept: "application/graphql-response+json" });
    expect(strict.status).toBe(400);
  });

  it("refuses malformed HTTP requests with 4xx, a JSON body and reason `request`", async () => {
    const malformed = await post("{ not json");
    expect(malformed.status).toBe(400);
    expect(malformed.body.errors?.[0]?.extensions).toMatchObject({
      code: "BAD_USER_INPUT",
      reason: "request",
    });
    const missing = await post(JSON.stringify({ variables: {} }));
    expect(missing.status).toBe(400);
    expect(missing.body.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", reason: "request" });

    const unsupported = await fetch(app.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "text/plain", authorization: `Bearer ${ADMIN_TOKEN}` },
      body: "{ __typename }",
    });
    expect(unsupported.status).toBe(415);
    expect(unsupported.headers.get("content-type")).toContain("application/json");
    const body = (await unsupported.json()) as Reply["body"];
    expect(body.errors?.[0]?.message).toMatch(/content-type/i);
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", reason: "request" });
  });

  it("logs a caller's mistake once, below error, with the request id", async () => {
    const requestId = `mistake-${Date.now()}`;
    const reply = await post(query("{ viewer { nope } }"), { "x-request-id": requestId });
    expect(reply.status).toBe(400);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const lines = app.lines().filter((line) => JSON.stringify(line).includes(requestId));
    // The refusal at info, and the access log line.
    expect(lines.map((line) => [line.level, line.msg])).toEqual([
      [30, "request refused"],
      [30, "request"],
    ]);
    expect(app.lines().filter((line) => (line.level as number) >= 50)).toEqual([]);
  });
});

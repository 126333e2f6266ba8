import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, api, createResource } from "../helpers/api.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { sha256 } from "./helpers.ts";

/** uploadFile by the GraphQL multipart request spec, sent with Node's own fetch and FormData. */
let server: TestServer;
let owner: Api;
const LIMIT = 256 * 1024;

const UPLOAD = `mutation($file: Upload!, $name: String) { uploadFile(input: { file: $file, name: $name }) { file { id name contentType size sha256 } } }`;

function form(parts: [string, string | Blob, string?][]): FormData {
  const body = new FormData();
  for (const [name, value, fileName] of parts) {
    if (typeof value === "string") body.append(name, value);
    else body.append(name, value, fileName);
  }
  return body;
}

async function post(body: FormData) {
  const response = await fetch(server.graphqlUrl, {
    method: "POST",
    headers: { authorization: `Bearer ${owner.token}`, "graphql-require-preflight": "1" },
    body,
  });
  return { status: response.status, body: await response.json() };
}

beforeAll(async () => {
  server = await startServer({ PLUGBOARD_FILE_MAX_BYTES: String(LIMIT) });
  owner = api(server, server.owner.token);
  await owner.ok(
    `mutation { createField(input: { resourceType: "account", key: "logo", name: "Logo", type: FILE }) { field { id } } }`,
  );
});
afterAll(() => server.close());

describe("uploadFile (GraphQL multipart request spec)", () => {
  it("stores a file sent with fetch + FormData + Blob, ready for a FILE field", async () => {
    const bytes = new TextEncoder().encode("quarterly numbers\n");
    const { status, body } = await post(
      form([
        ["operations", JSON.stringify({ query: UPLOAD, variables: { file: null } })],
        ["map", JSON.stringify({ 0: ["variables.file"] })],
        ["0", new Blob([bytes], { type: "text/plain" }), "q3 résumé.txt"],
      ]),
    );
    expect(status).toBe(200);
    const file = body.data.uploadFile.file;
    expect(file).toMatchObject({
      name: "q3 résumé.txt",
      contentType: "text/plain",
      size: bytes.length,
      sha256: sha256(bytes),
    });
    const account = await createResource(owner, "account", { name: "Umbrella", logo: [file.id] });
    expect(account.values.logo).toEqual([file.id]);
    const download = await fetch(`${server.url}/files/${file.id}`, {
      headers: { authorization: `Bearer ${owner.token}` },
    });
    expect(await download.text()).toBe("quarterly numbers\n");
  });

  it("appends the file to a resource's FILE field when given resourceId and field", async () => {
    const first = await createResource(owner, "account", { name: "Wayne" });
    const attach = `mutation($file: Upload!, $id: ID, $field: String) {
      uploadFile(input: { file: $file, resourceId: $id, field: $field }) { file { id } resource { id values version } } }`;
    const send = (name: string, variables: Record<string, unknown>) =>
      post(
        form([
          ["operations", JSON.stringify({ query: attach, variables: { file: null, ...variables } })],
          ["map", JSON.stringify({ 0: ["variables.file"] })],
          ["0", new Blob([name]), name],
        ]),
      );
    const one = (await send("one.txt", { id: first.id, field: "logo" })).body.data.uploadFile;
    const two = (await send("two.txt", { id: first.id, field: "logo" })).body.data.uploadFile;
    expect(two.resource.values.logo).toEqual([one.file.id, two.file.id]);
    expect(two.resource.version).toBe(first.version + 2);

    const before = (await server.database.db.query.files.findMany()).length;
    const wrongField = await send("x.txt", { id: first.id, field: "name" });
    expect(wrongField.body.errors[0].extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "field" });
    const unknown = await send("x.txt", { id: "res_doesnotexist1", field: "logo" });
    expect(unknown.body.errors[0].extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "resourceId" });
    const half = await send("x.txt", { id: first.id });
    expect(half.body.errors[0].extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "field" });
    expect((await server.database.db.query.files.findMany()).length).toBe(before);
  });

  it("takes several files in one request, each mapped to its variable", async () => {
    const query = `mutation($a: Upload!, $b: Upload!) {
      a: uploadFile(input: { file: $a }) { file { name size } }
      b: uploadFile(input: { file: $b, name: "renamed.bin" }) { file { name size } } }`;
    const { status, body } = await post(
      form([
        ["operations", JSON.stringify({ query, variables: { a: null, b: null } })],
        ["map", JSON.stringify({ 0: ["variables.a"], 1: ["variables.b"] })],
        ["0", new Blob(["aaa"]), "a.txt"],
        ["1", new Blob([new Uint8Array(1000)]), "b.bin"],
      ]),
    );
    expect(status).toBe(200);
    expect(body.data).toEqual({
      a: { file: { name: "a.txt", size: 3 } },
      b: { file: { name: "renamed.bin", size: 1000 } },
    });
  });

  it("accepts the file part before operations and map (the parser reads the whole form first)", async () => {
    const { status, body } = await post(
      form([
        ["0", new Blob(["early"]), "early.txt"],
        ["map", JSON.stringify({ 0: ["variables.file"] })],
        ["operations", JSON.stringify({ query: UPLOAD, variables: { file: null } })],
      ]),
    );
    expect(status).toBe(200);
    expect(body.data.uploadFile.file).toMatchObject({ name: "early.txt", size: 5 });
  });

  it("refuses a request without its map, naming the problem, and stores nothing", async () => {
    const before = (await server.database.db.query.files.findMany()).length;
    const { status, body } = await post(
      form([
        ["operations", JSON.stringify({ query: UPLOAD, variables: { file: null } })],
        ["0", new Blob(["x"]), "x.txt"],
      ]),
    );
    expect(status).toBe(400); // a request error (the variables), answered 400 like every request error
    expect(body.errors[0].extensions.code).toBe("BAD_USER_INPUT");
    expect(body.errors[0].message).toMatch(/file/);
    expect((await server.database.db.query.files.findMany()).length).toBe(before);
  });

  it("refuses a file over the limit with 413 PAYLOAD_TOO_LARGE", async () => {
    const { status, body } = await post(
      form([
        ["operations", JSON.stringify({ query: UPLOAD, variables: { file: null } })],
        ["map", JSON.stringify({ 0: ["variables.file"] })],
        ["0", new Blob([new Uint8Array(LIMIT + 1)]), "big.bin"],
      ]),
    );
    expect(status).toBe(413);
    expect(body.errors[0].extensions.code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("refuses more file parts than a request may carry", async () => {
    const parts: [string, string | Blob, string?][] = [
      ["operations", JSON.stringify({ query: UPLOAD, variables: { file: null } })],
      ["map", JSON.stringify({ 0: ["variables.file"] })],
    ];
    for (let i = 0; i < 8; i++) parts.push([String(i), new Blob(["x"]), `${i}.txt`]);
    const { status, body } = await post(form(parts));
    expect(status).toBeGreaterThanOrEqual(400);
    expect(body.errors[0].extensions.code).toMatch(/BAD_USER_INPUT|PAYLOAD_TOO_LARGE/);
  });

  it("refuses a file part given as a literal or as plain JSON", async () => {
    const literal = await owner.raw(`mutation { uploadFile(input: { file: "hello" }) { file { id } } }`);
    expect(literal.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    const json = await owner.raw(UPLOAD, { file: "hello" });
    expect(json.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });
});

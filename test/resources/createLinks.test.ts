import { afterAll, beforeAll, expect, it } from "vitest";
import { type Api, api, createResource, firstError } from "../helpers/api.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

/**
 * A create is one statement, links included: the write statement itself checks that each linked
 * id is a live resource of the field's type in the workspace, and writes nothing when one is not —
 * which is then BAD_USER_INPUT naming the field, as the check before the write said it.
 */
let server: TestServer;
let owner: Api;
/** Statements sent while a request is watched; those reading or writing resources are counted. */
let watched: string[] | null = null;
beforeAll(async () => {
  server = await startServer({}, { onQuery: (query) => watched?.push(query) });
  owner = api(server, server.owner.token);
});
afterAll(async () => {
  await server?.close();
});

const CREATE = `mutation($type: String!, $values: JSON!) { createResource(input: { type: $type, values: $values }) { resource { id } } }`;

async function statementsOf<T>(run: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
  watched = [];
  try {
    const result = await run();
    return { result, statements: watched.filter((q) => /\bresources\b/.test(q)) };
  } finally {
    watched = null;
  }
}

it("writes a linked create in one statement", async () => {
  const acme = await createResource(owner, "account", { name: "Acme" });
  const { result, statements } = await statementsOf(() =>
    owner.ok(CREATE, { type: "contact", values: { name: "Ada", accounts: [acme.id] } }),
  );
  expect(statements).toHaveLength(1);
  const { resource } = await owner.ok(
    `query($id: ID!) { resource(id: $id) { linked(field: "accounts") { edges { node { id } } } } }`,
    {
      id: result.createResource.resource.id,
    },
  );
  expect(resource.linked.edges).toEqual([{ node: { id: acme.id } }]);
});

it("refuses a missing, deleted, other-type or foreign link naming the field, and writes nothing", async () => {
  const gone = await createResource(owner, "account", { name: "Gone" });
  await owner.ok(`mutation($id: ID!) { deleteResource(input: { id: $id }) { deletedId } }`, { id: gone.id });
  const person = await createResource(owner, "contact", { name: "Not an account" });
  const tenant = api(server, (await server.createTenant()).token);
  const theirs = await createResource(tenant, "account", { name: "Theirs" });
  const good = await createResource(owner, "account", { name: "Good" });
  const count = async () =>
    (await owner.ok(`{ resources(type: "contact", first: 100) { edges { node { id } } } }`)).resources.edges
      .length;
  const before = await count();
  for (const bad of ["res_doesnotexist0000000000000", gone.id, person.id, theirs.id]) {
    const response = await owner.raw(CREATE, {
      type: "contact",
      values: { name: "x", accounts: [good.id, bad] },
    });
    expect(firstError(response)).toMatchObject({ code: "BAD_USER_INPUT", field: "accounts" });
    expect(firstError(response).message).toContain(bad);
  }
  expect(await count()).toBe(before);
});

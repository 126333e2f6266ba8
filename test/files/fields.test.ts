import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Api,
  api,
  CREATE,
  createResource,
  type Data,
  firstError,
  memberApi,
  UPDATE,
} from "../helpers/api.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { upload } from "./helpers.ts";

/**
 * FILE values are ids of files in the workspace that the writer can read; they stay plain ids in
 * `values` (docs/files.md) and `Resource.files(field)` gives their metadata and links. A file is
 * readable by whoever may read a FILE field holding it; before that, by its uploader only.
 */
let server: TestServer;
let owner: Api;
let member: Api & { memberId: string };
let viewer: Api & { memberId: string };
let blindViewer: Api & { memberId: string };

const createField = (input: Record<string, unknown>) =>
  owner.ok(`mutation($input: CreateFieldInput!) { createField(input: $input) { field { id } } }`, { input });

beforeAll(async () => {
  server = await startServer();
  owner = api(server, server.owner.token);
  await createField({ resourceType: "account", key: "contract", name: "Contract", type: "FILE" });
  await createField({ resourceType: "account", key: "private", name: "Private", type: "FILE" });
  member = await memberApi(server, owner, "MEMBER");
  viewer = await memberApi(server, owner, "VIEWER");
  blindViewer = viewer; // the VIEWER role cannot read `private` (set below)
  await owner.ok(
    `mutation { setFieldAccess(input: { resourceType: "account", field: "private", role: VIEWER, access: NONE }) { field { key } } }`,
  );
});
afterAll(() => server.close());

const download = (client: Api, id: string) =>
  fetch(`${server.url}/files/${id}`, { headers: { authorization: `Bearer ${client.token}` } });

describe("FILE field values", () => {
  it("refuses ids that do not exist, naming the field, and writes nothing", async () => {
    const result = await owner.raw(CREATE, {
      type: "account",
      values: { name: "Acme", contract: ["fil_doesnotexist1"] },
    });
    expect(firstError(result)).toMatchObject({ code: "BAD_USER_INPUT", field: "contract" });
    expect(firstError(result).message).toContain("fil_doesnotexist1");
    const listed = await owner.ok(`{ resources(type: "account", match: { name: "Acme" }) { nodes { id } } }`);
    expect(listed.resources.nodes).toEqual([]);
  });

  it("refuses another workspace's file exactly like an unknown one", async () => {
    const tenant = await server.createTenant();
    const foreign = await upload(server.url, tenant.token, new Blob(["theirs"]));
    const result = await owner.raw(CREATE, {
      type: "account",
      values: { name: "Foreign", contract: [foreign.id] },
    });
    expect(firstError(result)).toMatchObject({ code: "BAD_USER_INPUT", field: "contract" });
  });

  it("refuses another member's unattached upload: until attached it is theirs alone", async () => {
    const theirs = await upload(server.url, member.token, new Blob(["draft"]));
    const result = await owner.raw(CREATE, {
      type: "account",
      values: { name: "Taken", contract: [theirs.id] },
    });
    expect(firstError(result)).toMatchObject({ code: "BAD_USER_INPUT", field: "contract" });
    expect((await download(owner, theirs.id)).status).toBe(404);
    expect((await owner.ok(`query($id: ID!) { file(id: $id) { id } }`, { id: theirs.id })).file).toBeNull();
    expect((await download(member, theirs.id)).status).toBe(200);
  });

  it("keeps values as ids and gives metadata and links through Resource.files", async () => {
    const file = await upload(server.url, member.token, new Blob(["signed contract"]), {
      name: "contract.pdf.txt",
      type: "text/plain",
    });
    const account = await createResource(member, "account", { name: "Globex", contract: [file.id] });
    expect(account.values.contract).toEqual([file.id]);
    const data = await viewer.ok(
      `query($id: ID!) { resource(id: $id) { values files(field: "contract") { id name contentType size sha256 url } } }`,
      { id: account.id },
    );
    expect(data.resource.values.contract).toEqual([file.id]);
    expect(data.resource.files).toEqual([
      {
        id: file.id,
        name: "contract.pdf.txt",
        contentType: "text/plain",
        size: 15,
        sha256: file.sha256,
        url: expect.stringContaining(`/files/${file.id}?`),
      },
    ]);
    // Attached, the file is readable by everyone who may read the field.
    expect(await (await download(viewer, file.id)).text()).toBe("signed contract");
    expect(await (await fetch(data.resource.files[0].url)).text()).toBe("signed contract");
    const resolved = await viewer.ok(`query($ids: [ID!]!) { files(ids: $ids) { id } }`, {
      ids: [file.id, "fil_doesnotexist1"],
    });
    expect(resolved.files).toEqual([{ id: file.id }]);
  });

  it("gives a VIEWER who cannot read the field nothing: no download, no metadata, no files()", async () => {
    const file = await upload(server.url, owner.token, new Blob(["board minutes"]));
    const account = await createResource(owner, "account", { name: "Initech", private: [file.id] });
    expect((await download(blindViewer, file.id)).status).toBe(404);
    expect(
      await blindViewer.ok(`query($id: ID!) { file(id: $id) { id } node(id: $id) { id } }`, { id: file.id }),
    ).toEqual({
      file: null,
      node: null,
    });
    const result = await blindViewer.raw(
      `query($id: ID!) { resource(id: $id) { files(field: "private") { id } } }`,
      { id: account.id },
    );
    expect(firstError(result)).toMatchObject({ code: "BAD_USER_INPUT", field: "field" });
    expect((await download(member, file.id)).status).toBe(200);
  });

  it("puts file ids in the changes feed, which files(ids) turns into names and links", async () => {
    const account = await createResource(owner, "account", { name: "Wonka" });
    const file = await upload(server.url, owner.token, new Blob(["recipe"]), {
      name: "recipe.txt",
      type: "text/plain",
    });
    await owner.ok(UPDATE, { id: account.id, values: { contract: [file.id] } });
    let change: Data;
    const query = `query($id: ID!) { changes(first: 10, filter: { resourceIds: [$id], kinds: [UPDATED] }) {
      nodes { snapshot fields { key added removed } } } }`;
    for (const deadline = Date.now() + 10_000; !change && Date.now() < deadline; ) {
      change = (await viewer.ok(query, { id: account.id })).changes.nodes[0];
      if (!change) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(change.snapshot.contract).toEqual([file.id]);
    expect(change.fields).toEqual([{ key: "contract", added: [file.id], removed: [] }]);
    const resolved = await viewer.ok(`query($ids: [ID!]!) { files(ids: $ids) { name url } }`, {
      ids: change.fields[0].added,
    });
    expect(resolved.files).toEqual([
      { name: "recipe.txt", url: expect.stringContaining(`/files/${file.id}?`) },
    ]);
  });

  it("lets an attached file be reused by anyone who can read it, and a deleted resource's files stay", async () => {
    const file = await upload(server.url, owner.token, new Blob(["shared"]));
    const first = await createResource(owner, "account", { name: "Hooli", contract: [file.id] });
    const second = await member.ok(UPDATE, {
      id: (await createResource(member, "account", { name: "Pied Piper" })).id,
      values: { contract: [file.id] },
    });
    expect(second.updateResource.resource.values.contract).toEqual([file.id]);
    await owner.ok(`mutation($id: ID!) { deleteResource(input: { id: $id }) { deletedId } }`, {
      id: first.id,
    });
    expect((await download(owner, file.id)).status).toBe(200);
    const rows: Data[] = await server.database.db.query.files.findMany({
      where: (f, { eq }) => eq(f.id, file.id),
    });
    expect(rows).toHaveLength(1);
  });

  it("leaves an upload its uploader's when the create holding it fails", async () => {
    await createField({
      resourceType: "account",
      key: "ledgerCode",
      name: "Ledger code",
      type: "TEXT",
      unique: true,
    });
    await createResource(member, "account", { name: "Taken", ledgerCode: "L-1" });
    const file = await upload(server.url, member.token, new Blob(["draft"]), { name: "draft.txt" });
    const refused = await member.raw(CREATE, {
      type: "account",
      values: { name: "Duplicate", ledgerCode: "L-1", contract: [file.id] },
    });
    expect(firstError(refused).code).toBe("CONFLICT");
    const download = await fetch(`${server.url}/files/${file.id}`, {
      headers: { authorization: `Bearer ${member.token}` },
    });
    expect(download.status).toBe(200);
    const retried = await createResource(member, "account", { name: "Retried", contract: [file.id] });
    expect(retried.values.contract).toEqual([file.id]);
  });
});

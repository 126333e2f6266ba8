import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, api } from "../helpers/api.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { postFile, postStream, sha256, upload } from "./helpers.ts";

let server: TestServer;
let owner: Api;
const auth = () => ({ authorization: `Bearer ${owner.token}` });

beforeAll(async () => {
  server = await startServer({ PLUGBOARD_FILE_MAX_BYTES: String(8 * 1024 * 1024) });
  owner = api(server, server.owner.token);
});
afterAll(() => server.close());

describe("POST /files and GET /files/:id", () => {
  it("stores a body sent with fetch and serves it back with its metadata headers", async () => {
    const bytes = new TextEncoder().encode("id,name\n1,Ünïcode\n");
    const file = await upload(server.url, owner.token, new Blob([bytes]), {
      name: "naïve report.csv",
      type: "text/csv",
    });
    expect(file).toMatchObject({
      name: "naïve report.csv",
      contentType: "text/csv",
      size: bytes.length,
      sha256: sha256(bytes),
    });
    expect(file.id).toMatch(/^fil_/);

    const response = await fetch(`${server.url}/files/${file.id}`, { headers: auth() });
    expect(response.status).toBe(200);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(bytes);
    expect(response.headers.get("content-length")).toBe(String(bytes.length));
    expect(response.headers.get("content-type")).toBe("text/csv");
    expect(response.headers.get("etag")).toBe(`"${sha256(bytes)}"`);
    expect(response.headers.get("accept-ranges")).toBe("bytes");
    expect(response.headers.get("content-disposition")).toBe(
      `attachment; filename="na_ve report.csv"; filename*=UTF-8''na%C3%AFve%20report.csv`,
    );
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("content-security-policy")).toContain("sandbox");

    const data = await owner.ok(
      `query($id: ID!) { file(id: $id) { id name contentType size sha256 createdBy { id } url } }`,
      {
        id: file.id,
      },
    );
    expect(data.file).toMatchObject({
      id: file.id,
      size: bytes.length,
      createdBy: { id: server.owner.memberId },
    });
  });

  it("streams a chunked body of several chunks and serves byte ranges across chunk boundaries", async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 12_345);
    const sent = await postStream(
      server.url,
      owner.token,
      Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]),
      "big.bin",
    );
    expect(sent.status).toBe(201);
    const file = JSON.parse(sent.body);
    expect(file).toMatchObject({
      size: bytes.length,
      sha256: sha256(bytes),
      contentType: "application/octet-stream",
    });

    const whole = await fetch(`${server.url}/files/${file.id}`, { headers: auth() });
    expect(sha256(new Uint8Array(await whole.arrayBuffer()))).toBe(file.sha256);

    const start = 1024 * 1024 - 10;
    const middle = await fetch(`${server.url}/files/${file.id}`, {
      headers: { ...auth(), range: `bytes=${start}-${start + 2 * 1024 * 1024}` },
    });
    expect(middle.status).toBe(206);
    expect(middle.headers.get("content-range")).toBe(
      `bytes ${start}-${start + 2 * 1024 * 1024}/${bytes.length}`,
    );
    expect(
      Buffer.from(await middle.arrayBuffer()).equals(bytes.subarray(start, start + 2 * 1024 * 1024 + 1)),
    ).toBe(true);

    // Resuming a download: the rest from an offset, and a suffix.
    const rest = await fetch(`${server.url}/files/${file.id}`, {
      headers: { ...auth(), range: `bytes=${bytes.length - 100}-`, "if-range": `"${file.sha256}"` },
    });
    expect(rest.status).toBe(206);
    expect(Buffer.from(await rest.arrayBuffer()).equals(bytes.subarray(bytes.length - 100))).toBe(true);
    const suffix = await fetch(`${server.url}/files/${file.id}`, {
      headers: { ...auth(), range: "bytes=-7" },
    });
    expect(Buffer.from(await suffix.arrayBuffer()).equals(bytes.subarray(bytes.length - 7))).toBe(true);

    const stale = await fetch(`${server.url}/files/${file.id}`, {
      headers: { ...auth(), range: "bytes=0-9", "if-range": '"other"' },
    });
    expect(stale.status).toBe(200);
    expect(Number(stale.headers.get("content-length"))).toBe(bytes.length);
    await stale.arrayBuffer();

    const past = await fetch(`${server.url}/files/${file.id}`, {
      headers: { ...auth(), range: `bytes=${bytes.length}-` },
    });
    expect(past.status).toBe(416);
    expect(past.headers.get("content-range")).toBe(`bytes */${bytes.length}`);
  });

  it("answers If-None-Match with 304 and HEAD with headers only", async () => {
    const file = await upload(server.url, owner.token, new Blob(["hello"]), {
      name: "a.txt",
      type: "text/plain",
    });
    const cached = await fetch(`${server.url}/files/${file.id}`, {
      headers: { ...auth(), "if-none-match": `"${file.sha256}"` },
    });
    expect(cached.status).toBe(304);
    expect(cached.headers.get("etag")).toBe(`"${file.sha256}"`);
    const head = await fetch(`${server.url}/files/${file.id}`, { method: "HEAD", headers: auth() });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe("5");
    expect(await head.text()).toBe("");
  });

  it("serves signed links without a credential until they expire, and refuses tampered ones", async () => {
    const file = await upload(server.url, owner.token, new Blob(["signed"]), { name: "s.txt" });
    expect(file.url).not.toContain(owner.token);
    const signed = await fetch(file.url);
    expect(signed.status).toBe(200);
    expect(await signed.text()).toBe("signed");

    const url = new URL(file.url);
    url.searchParams.set("expires", String(Number(url.searchParams.get("expires")) + 3600));
    expect((await fetch(url)).status).toBe(403);
    const other = await upload(server.url, owner.token, new Blob(["other"]));
    expect((await fetch(file.url.replace(file.id, other.id))).status).toBe(403);

    const short = await owner.ok(`query($id: ID!) { file(id: $id) { url(expiresIn: 1) } }`, { id: file.id });
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect((await fetch(short.file.url)).status).toBe(403);
    const tooLong = await owner.raw(`query($id: ID!) { file(id: $id) { url(expiresIn: 99999999) } }`, {
      id: file.id,
    });
    expect(tooLong.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "expiresIn" });
  });

  it("refuses missing credentials, unknown ids and another workspace's files alike", async () => {
    const file = await upload(server.url, owner.token, new Blob(["mine"]));
    expect((await fetch(`${server.url}/files/${file.id}`)).status).toBe(401);
    expect((await postFile(server.url, null, new Blob(["x"]))).status).toBe(401);
    expect((await fetch(`${server.url}/files/fil_doesnotexist1`, { headers: auth() })).status).toBe(404);

    const tenant = await server.createTenant();
    const foreign = await fetch(`${server.url}/files/${file.id}`, {
      headers: { authorization: `Bearer ${tenant.token}` },
    });
    expect(foreign.status).toBe(404);
    const body = await foreign.json();
    expect(body.errors[0].extensions.code).toBe("NOT_FOUND");
    const viaGraphql = await api(server, tenant.token).ok(
      `query($id: ID!) { file(id: $id) { id } node(id: $id) { id } }`,
      {
        id: file.id,
      },
    );
    expect(viaGraphql).toEqual({ file: null, node: null });
  });

  it("serves uploaded HTML and SVG inert, as octet-stream in a sandbox", async () => {
    for (const [name, type, text] of [
      ["page.html", "text/html", "<!DOCTYPE html><script>alert(1)</script>"],
      [
        "image.svg",
        "image/svg+xml",
        '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
      ],
      ["sneaky.txt", "text/plain", "<html><body onload=alert(1)>"],
    ] as const) {
      const file = await upload(server.url, owner.token, new Blob([text]), { name, type });
      expect(file.contentType).toBe("application/octet-stream");
      const response = await fetch(`${server.url}/files/${file.id}`, { headers: auth() });
      expect(response.headers.get("content-type")).toBe("application/octet-stream");
      expect(response.headers.get("content-disposition")).toMatch(/^attachment;/);
      expect(response.headers.get("content-security-policy")).toMatch(/sandbox/);
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      await response.arrayBuffer();
    }
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
    expect(
      (await upload(server.url, owner.token, new Blob([png]), { name: "x.png", type: "text/html" }))
        .contentType,
    ).toBe("image/png");
  });

  it("refuses bodies over the limit, declared or streamed, and keeps nothing of them", async () => {
    const before = await countFiles();
    const declared = await postFile(server.url, owner.token, new Blob([new Uint8Array(8 * 1024 * 1024 + 1)]));
    expect(declared.status).toBe(413);
    expect((await declared.json()).errors[0].extensions.code).toBe("PAYLOAD_TOO_LARGE");
    const streamed = await postStream(
      server.url,
      owner.token,
      Readable.from([Buffer.alloc(5 * 1024 * 1024), Buffer.alloc(5 * 1024 * 1024)]),
      "big",
    );
    expect(streamed.status).toBe(413);
    expect(await countFiles()).toBe(before);
  });
});

async function countFiles(): Promise<number> {
  const rows = await server.database.db.query.files.findMany();
  return rows.length;
}

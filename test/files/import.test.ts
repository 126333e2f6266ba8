import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, api, createResource, firstError } from "../helpers/api.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { sha256 } from "./helpers.ts";

/** importFileFromUrl: the webhooks' SSRF guard, then a streamed fetch into storage. */
let origin: Server;
let originUrl: string;
let open: TestServer; // PLUGBOARD_WEBHOOK_ALLOW_PRIVATE: the origin on 127.0.0.1 is reachable
let guarded: TestServer; // the default: private addresses refused
const REPORT = "month,total\nNov,42\n";
const IMPORT = `mutation($url: String!, $name: String) { importFileFromUrl(input: { url: $url, name: $name }) { file { id name contentType size sha256 } } }`;

beforeAll(async () => {
  origin = createServer((req, res) => {
    if (req.url === "/report") {
      res.writeHead(200, {
        "content-type": "text/csv",
        "content-disposition": `attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.csv`,
      });
      res.end(REPORT);
    } else if (req.url === "/redirect") {
      res.writeHead(302, { location: "/report" });
      res.end();
    } else if (req.url === "/big") {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      res.end(Buffer.alloc(300 * 1024));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => origin.listen(0, "127.0.0.1", resolve));
  originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  open = await startServer({
    PLUGBOARD_WEBHOOK_ALLOW_PRIVATE: "true",
    PLUGBOARD_FILE_MAX_BYTES: String(256 * 1024),
  });
  guarded = await startServer();
});
afterAll(async () => {
  await open.close();
  await guarded.close();
  await new Promise((resolve) => origin.close(resolve));
});

const client = (server: TestServer): Api => api(server, server.owner.token);

describe("importFileFromUrl", () => {
  it("stores what the URL serves, named by its Content-Disposition, following a redirect", async () => {
    const data = await client(open).ok(IMPORT, { url: `${originUrl}/redirect` });
    expect(data.importFileFromUrl.file).toMatchObject({
      name: "résumé.csv",
      contentType: "text/csv",
      size: REPORT.length,
      sha256: sha256(new TextEncoder().encode(REPORT)),
    });
    const named = await client(open).ok(IMPORT, { url: `${originUrl}/report`, name: "nov.csv" });
    expect(named.importFileFromUrl.file.name).toBe("nov.csv");

    await client(open).ok(
      `mutation { createField(input: { resourceType: "account", key: "reports", name: "Reports", type: FILE }) { field { id } } }`,
    );
    const account = await createResource(client(open), "account", { name: "Acme" });
    const attached = await client(open).ok(
      `mutation($url: String!, $id: ID) { importFileFromUrl(input: { url: $url, resourceId: $id, field: "reports" }) { file { id } resource { values } } }`,
      { url: `${originUrl}/report`, id: account.id },
    );
    expect(attached.importFileFromUrl.resource.values.reports).toEqual([attached.importFileFromUrl.file.id]);
  });

  it("refuses private addresses through the webhook SSRF guard", async () => {
    for (const url of [`${originUrl}/report`, "http://169.254.169.254/latest/meta-data/", "http://[::1]/x"]) {
      const result = await client(guarded).raw(IMPORT, { url });
      expect(firstError(result)).toMatchObject({ code: "BAD_USER_INPUT", field: "url" });
    }
    const scheme = await client(guarded).raw(IMPORT, { url: "file:///etc/passwd" });
    expect(firstError(scheme)).toMatchObject({ code: "BAD_USER_INPUT", field: "url" });
    expect(firstError(scheme).message).toMatch(/^url: import URLs must be http or https/);
  });

  it("refuses error answers and bodies over the size limit, keeping nothing", async () => {
    const before = (await open.database.db.query.files.findMany()).length;
    const missing = await client(open).raw(IMPORT, { url: `${originUrl}/missing` });
    expect(firstError(missing)).toMatchObject({ code: "BAD_USER_INPUT", field: "url" });
    expect(firstError(missing).message).toContain("404");
    const big = await client(open).raw(IMPORT, { url: `${originUrl}/big` });
    expect(firstError(big).code).toBe("PAYLOAD_TOO_LARGE");
    expect((await open.database.db.query.files.findMany()).length).toBe(before);
  });
});

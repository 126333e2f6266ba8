import { createHash } from "node:crypto";
import { request } from "node:http";
import type { Readable } from "node:stream";

export interface UploadedFile {
  id: string;
  name: string;
  contentType: string;
  size: number;
  sha256: string;
  url: string;
}

export const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** `POST /files` with fetch, as the README shows. */
export async function postFile(
  baseUrl: string,
  token: string | null,
  body: BodyInit,
  options: { name?: string; type?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = { "content-type": options.type ?? "application/octet-stream" };
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.name)
    headers["content-disposition"] = `attachment; filename*=UTF-8''${encodeURIComponent(options.name)}`;
  return fetch(`${baseUrl}/files`, { method: "POST", headers, body });
}

export async function upload(
  baseUrl: string,
  token: string,
  body: BodyInit,
  options: { name?: string; type?: string } = {},
): Promise<UploadedFile> {
  const response = await postFile(baseUrl, token, body, options);
  if (response.status !== 201) throw new Error(`upload failed: ${response.status} ${await response.text()}`);
  return (await response.json()) as UploadedFile;
}

/**
 * `POST /files` over a raw node:http request from a stream, chunked (no Content-Length), so the
 * server cannot know the size in advance.
 */
export function postStream(
  baseUrl: string,
  token: string,
  source: Readable,
  name: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${baseUrl}/files`,
      {
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/octet-stream",
          "content-disposition": `attachment; filename*=UTF-8''${encodeURIComponent(name)}`,
          "transfer-encoding": "chunked",
        },
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    source.pipe(req);
  });
}

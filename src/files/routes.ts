import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { Actor, Authenticator } from "../auth/index.ts";
import { readCredential } from "../auth/index.ts";
import { AppError, fail } from "../kernel/index.ts";
import { attachmentDisposition, fileNameFromDisposition } from "./disposition.ts";
import { parseRange } from "./range.ts";
import type { FileService } from "./service.ts";
import type { FileRow } from "./tables.ts";

/** What the file routes use of the app's services (server/ passes its own; no import of server/). */
export interface FileRouteServices {
  auth: Pick<Authenticator, "authenticate">;
  files: FileService;
  logger: Logger;
}

const STATUS: Record<string, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  BAD_USER_INPUT: 400,
  PAYLOAD_TOO_LARGE: 413,
};

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers });
  res.end(JSON.stringify(body));
}

/** An error as GraphQL would show it (`errors[0].extensions.code`), with the matching status. */
function sendError(res: ServerResponse, error: unknown, logger: Logger): void {
  if (!(error instanceof AppError)) {
    logger.error({ err: error }, "file request failed");
    sendJson(res, 500, {
      errors: [{ message: "Unexpected error.", extensions: { code: "INTERNAL_SERVER_ERROR" } }],
    });
    return;
  }
  const { http, ...extensions } = error.extensions as { http?: { headers?: Record<string, string> } };
  sendJson(
    res,
    STATUS[error.code] ?? 400,
    { errors: [{ message: error.message, extensions }] },
    http?.headers ?? {},
  );
}

function headersOf(req: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === "string") headers.set(name, value);
  }
  return headers;
}

/** The credential's actor, or null when none was sent. */
async function actorOf(req: IncomingMessage, services: FileRouteServices): Promise<Actor | null> {
  const credential = readCredential(headersOf(req), req.url ?? "/");
  if (credential === "malformed") {
    throw fail.unauthenticated("The Authorization header is malformed; use `Bearer <token>` or Basic.", true);
  }
  return credential ? await services.auth.authenticate(credential) : null;
}

const authRequired = () =>
  fail.unauthenticated(
    "Send an API key (Authorization: Bearer, Basic or X-API-Key), or use a signed link from File.url.",
    false,
  );

/** `POST /files`: the raw body is the file; its name comes from Content-Disposition. */
async function upload(req: IncomingMessage, res: ServerResponse, services: FileRouteServices): Promise<void> {
  const actor = await actorOf(req, services);
  if (!actor) throw authRequired();
  const length = req.headers["content-length"];
  const file = await services.files.upload(actor, {
    name: fileNameFromDisposition(req.headers["content-disposition"]),
    declaredType: req.headers["content-type"],
    declaredLength: length === undefined ? null : Number(length),
    body: req,
  });
  const url = await services.files.signedUrl(file, null);
  sendJson(res, 201, toJson(file, url), { location: `/files/${file.id}` });
}

export function toJson(file: FileRow, url: string) {
  return {
    id: file.id,
    name: file.name,
    contentType: file.contentType,
    size: file.size,
    sha256: file.sha256,
    createdAt: new Date(file.createdAt).toISOString(),
    url,
  };
}

/** `GET`/`HEAD /files/:id`, with a credential or a signed link. */
async function download(
  req: IncomingMessage,
  res: ServerResponse,
  services: FileRouteServices,
  id: string,
  query: URLSearchParams,
): Promise<void> {
  const actor = await actorOf(req, services);
  let file: FileRow | null;
  if (actor) {
    file = await services.files.get(actor, id);
  } else if (query.has("signature")) {
    const valid = await services.files.signer.verify(id, query.get("expires"), query.get("signature"));
    if (!valid) throw fail.forbidden("This link is invalid or has expired; ask File.url for a new one.");
    file = await services.files.byId(id);
    if (!file) throw fail.notFound(`No file ${id}.`);
  } else {
    throw authRequired();
  }
  const size = file.size ?? 0;
  const etag = `"${file.sha256}"`;
  const headers: Record<string, string | number> = {
    "content-type": file.contentType,
    "content-disposition": attachmentDisposition(file.name),
    etag,
    "last-modified": new Date(file.createdAt).toUTCString(),
    "accept-ranges": "bytes",
    "cache-control": "private, max-age=0, must-revalidate",
    // An uploaded HTML or SVG page must never run script in our origin, whatever a browser guesses.
    "x-content-type-options": "nosniff",
    "content-security-policy": "sandbox; default-src 'none'",
  };
  const ifNoneMatch = req.headers["if-none-match"];
  if (
    ifNoneMatch &&
    (ifNoneMatch.trim() === "*" || ifNoneMatch.split(",").some((t) => t.trim().replace(/^W\//, "") === etag))
  ) {
    res.writeHead(304, { etag, "cache-control": headers["cache-control"] as string });
    res.end();
    return;
  }
  // If-Range with another validator: the client's partial copy is stale, send the whole file.
  const ifRange = req.headers["if-range"] as string | undefined;
  const range = ifRange && ifRange.trim() !== etag ? null : parseRange(req.headers.range, size);
  if (range === "unsatisfiable") {
    res.writeHead(416, { "content-range": `bytes */${size}`, "content-type": "text/plain" });
    res.end();
    return;
  }
  const [start, end] = range ?? [0, size];
  headers["content-length"] = end - start;
  if (range) headers["content-range"] = `bytes ${start}-${end - 1}/${size}`;
  res.writeHead(range ? 206 : 200, headers);
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  await writeAll(res, services.files.store.read(file.id, start, end));
}

/**
 * Writes chunks one at a time, each only after the previous has been handed to the socket: the
 * store reuses its buffer, and a slow client holds back reading instead of filling memory.
 */
async function writeAll(res: ServerResponse, chunks: AsyncGenerator<Uint8Array>): Promise<void> {
  const gone = new Promise<never>((_, reject) =>
    res.once("close", () => reject(new Error("the client closed the connection"))),
  );
  gone.catch(() => {});
  for await (const chunk of chunks) {
    const written = new Promise<void>((resolve, reject) =>
      res.write(chunk, (error) => (error ? reject(error) : resolve())),
    );
    await Promise.race([written, gone]);
  }
  res.end();
}

const FILE_PATH = /^\/files\/([a-z]{2,4}_[0-9a-z]{1,40})$/;

/** Routes `/files` and `/files/:id`; false for any other path. */
export function handleFiles(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  services: FileRouteServices,
): boolean {
  if (path !== "/files" && !path.startsWith("/files/")) return false;
  const query = new URL(req.url ?? "/", "http://localhost").searchParams;
  const match = FILE_PATH.exec(path);
  let work: Promise<void>;
  if (path === "/files" && req.method === "POST") work = upload(req, res, services);
  else if (match?.[1] && (req.method === "GET" || req.method === "HEAD"))
    work = download(req, res, services, match[1], query);
  else if (path === "/files" || match) {
    req.resume();
    sendJson(
      res,
      405,
      { errors: [{ message: `${req.method} is not allowed here.`, extensions: { code: "BAD_USER_INPUT" } }] },
      {
        allow: path === "/files" ? "POST" : "GET, HEAD",
      },
    );
    return true;
  } else {
    req.resume();
    sendJson(res, 404, { errors: [{ message: "No such file.", extensions: { code: "NOT_FOUND" } }] });
    return true;
  }
  work.catch((error) => {
    // An upload refused before its body was read: drain it so the client sees the answer.
    if (!req.readableEnded) req.resume();
    if (res.headersSent) {
      // A download cut mid-stream (client gone, or storage failed): nothing more can be said.
      if (!res.destroyed) services.logger.warn({ err: error }, "file download interrupted");
      res.destroy();
      return;
    }
    if (error instanceof AppError && error.code === "PAYLOAD_TOO_LARGE") res.setHeader("connection", "close");
    sendError(res, error, services.logger);
  });
  return true;
}

import { print } from "graphql";
import { UploadFileDocument, type UploadFileMutation } from "./generated.ts";
import { failure, readResult, send, type Transport } from "./transport.ts";

export interface UploadOptions {
  /** The file name to keep; default: the Blob's `name` (a File), else "upload". */
  name?: string;
  /** With `field`: append the file to this resource's FILE field. */
  resourceId?: string;
  field?: string;
}

/**
 * `uploadFile` by the GraphQL multipart request spec: `operations` (the query with the file set to
 * null), `map` (part "0" → `variables.input.file`) and the file part, as FormData. Not retried: an
 * upload carries no idempotency key, so a retry could store the file twice.
 */
export async function uploadFile(
  t: Transport,
  file: Blob,
  options: UploadOptions = {},
): Promise<UploadFileMutation["uploadFile"]> {
  const fileName = options.name ?? (file as Blob & { name?: string }).name ?? "upload";
  const input = { file: null, name: options.name, resourceId: options.resourceId, field: options.field };
  const operations = JSON.stringify({ query: print(UploadFileDocument), variables: { input } });
  const response = await send(
    t,
    (headers) => {
      const form = new FormData();
      form.append("operations", operations);
      form.append("map", JSON.stringify({ 0: ["variables.input.file"] }));
      form.append("0", file, fileName);
      // A non-simple header: servers with CSRF prevention require it on multipart requests.
      return {
        method: "POST",
        headers: { ...headers, "graphql-require-preflight": "1" },
        body: form,
      };
    },
    false,
  );
  return (await readResult<UploadFileMutation>(response)).uploadFile;
}

export interface DownloadOptions {
  /** An HTTP Range, e.g. "bytes=0-1023" (the response is then 206). */
  range?: string;
  signal?: AbortSignal;
}

/**
 * `GET /files/:id` with the client's credential. Resolves to the Response (stream `body`, or
 * `arrayBuffer()`, `text()`); its headers carry content-type, content-disposition (the file name)
 * and the ETag (the SHA-256). Throws `NotFoundError` for a file the credential cannot read.
 */
export async function downloadFile(
  t: Transport,
  filesUrl: string,
  id: string,
  options: DownloadOptions = {},
): Promise<Response> {
  const response = await send(
    t,
    (headers) => ({
      url: new URL(encodeURIComponent(id), filesUrl).toString(),
      method: "GET",
      headers: options.range ? { ...headers, range: options.range } : headers,
      signal: options.signal,
    }),
    true,
  );
  if (!response.ok) throw await failure(response);
  return response;
}

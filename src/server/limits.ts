import type { IncomingMessage, ServerResponse } from "node:http";
import { GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";

/** The largest request body accepted: room for a LONG_TEXT value and a 100-item bulk mutation. */
export const MAX_BODY_BYTES = 5 * 1024 * 1024;

function tooLargeMessage(length: number, limit: number): string {
  return `The request body is ${length} bytes; the limit is ${limit}. Split bulk work into smaller requests.`;
}

/** The body limit of a request: `multipart` (uploadFile) bodies carry a file and get `multipart`. */
export type BodyLimit = (contentType: string | null | undefined) => number;
export const defaultBodyLimit: BodyLimit = () => MAX_BODY_BYTES;

/**
 * Refuses a declared body over the limit with 413 and PAYLOAD_TOO_LARGE before anything is read.
 * Bodies without a Content-Length (chunked) are counted as they stream: `useStreamedBodyLimit`.
 */
export function refuseLargeBody(
  req: IncomingMessage,
  res: ServerResponse,
  bodyLimit: BodyLimit = defaultBodyLimit,
): boolean {
  const length = Number(req.headers["content-length"] ?? 0);
  const limit = bodyLimit(req.headers["content-type"]);
  if (!(length > limit)) return false;
  res.writeHead(413, { "content-type": "application/json", connection: "close" });
  res.end(
    JSON.stringify({
      errors: [{ message: tooLargeMessage(length, limit), extensions: { code: "PAYLOAD_TOO_LARGE" } }],
    }),
  );
  req.resume();
  return true;
}

/**
 * Counts the bytes of a body sent without a Content-Length and fails it past the limit.
 * This replaces Yoga's built-in `maxRequestBodySize`, which pipes every body through a
 * TransformStream (an AbortController, a pipeline and a DOMException per request: more than half of
 * a small request's CPU, see bench:auth's "yoga defaults" row) although a declared length has
 * already been checked by `refuseLargeBody`.
 */
export function useStreamedBodyLimit(bodyLimit: BodyLimit = defaultBodyLimit): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser }) {
      if (request.headers.has("content-length") || !request.body || !requestParser) return;
      const parse = requestParser;
      const limit = bodyLimit(request.headers.get("content-type"));
      setRequestParser(async (streamed) => {
        let bytes = 0;
        const chunks: Uint8Array[] = [];
        // Past the limit the rest is read and dropped (memory stays bounded) so the client gets the
        // 413 instead of a connection reset mid-upload.
        for await (const chunk of streamed.body as unknown as AsyncIterable<Uint8Array>) {
          bytes += chunk.byteLength;
          if (bytes <= limit) chunks.push(chunk);
        }
        if (bytes > limit) {
          throw new GraphQLError(tooLargeMessage(bytes, limit), {
            extensions: { code: "PAYLOAD_TOO_LARGE", http: { status: 413 } },
          });
        }
        return parse(
          new Request(streamed.url, {
            method: streamed.method,
            headers: streamed.headers,
            body: Buffer.concat(chunks),
          }),
        );
      });
    },
  };
}

import type { IncomingMessage, ServerResponse } from "node:http";

/** The largest request body accepted: room for a LONG_TEXT value and a 100-item bulk mutation. */
export const MAX_BODY_BYTES = 5 * 1024 * 1024;

/**
 * Refuses a declared body over the limit with 413 and PAYLOAD_TOO_LARGE before anything is read.
 * (Bodies sent without Content-Length are bounded by the field validators instead.)
 */
export function refuseLargeBody(req: IncomingMessage, res: ServerResponse): boolean {
  const length = Number(req.headers["content-length"] ?? 0);
  if (!(length > MAX_BODY_BYTES)) return false;
  res.writeHead(413, { "content-type": "application/json", connection: "close" });
  res.end(
    JSON.stringify({
      errors: [
        {
          message: `The request body is ${length} bytes; the limit is ${MAX_BODY_BYTES}. Split bulk work into smaller requests.`,
          extensions: { code: "PAYLOAD_TOO_LARGE" },
        },
      ],
    }),
  );
  req.resume();
  return true;
}

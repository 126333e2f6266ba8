import pino, { type Logger } from "pino";

/**
 * JSON lines on stdout. Credentials never reach a log: requests log their path, not headers or query.
 * Writes are buffered (sonic-boom, async) so a log line per request does not block the request; `main` flushes on exit.
 */
export function createLogger(level: string): Logger {
  return pino(
    {
      level,
      base: { service: "plugboard" },
      redact: ["req.headers.authorization", "req.headers['x-api-key']", "token", "password", "secret"],
    },
    pino.destination({ dest: 1, sync: false, minLength: 0 }),
  );
}

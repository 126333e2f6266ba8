import { AsyncLocalStorage } from "node:async_hooks";
import pino, { type DestinationStream, type Logger } from "pino";

/** Buffered lines are written at least this often, so a quiet server's log is never stale for long. */
const FLUSH_INTERVAL_MS = 500;

/** The request being served: every line logged while serving it carries its `reqId`. */
export const requestScope = new AsyncLocalStorage<{ reqId: string }>();

/**
 * JSON lines on stdout (or `destination`: tests read what is logged). Credentials never reach a log: requests log their path, not headers or query.
 * Lines are buffered (sonic-boom, async, 4 KiB) and flushed every FLUSH_INTERVAL_MS: one write per
 * request line cost a thread-pool round trip each (~15% of a small request's CPU). `main` flushes on
 * exit and after startup.
 */
export function createLogger(level: string, to?: DestinationStream): Logger {
  let destination = to;
  if (!destination) {
    const stdout = pino.destination({ dest: 1, sync: false, minLength: 4096 });
    setInterval(() => stdout.flush(), FLUSH_INTERVAL_MS).unref();
    destination = stdout;
  }
  return pino(
    {
      level,
      base: { service: "plugboard" },
      mixin: () => requestScope.getStore() ?? {},
      redact: ["req.headers.authorization", "req.headers['x-api-key']", "token", "password", "secret"],
    },
    destination,
  );
}

import pino, { type Logger } from "pino";

/** Buffered lines are written at least this often, so a quiet server's log is never stale for long. */
const FLUSH_INTERVAL_MS = 500;

/**
 * JSON lines on stdout. Credentials never reach a log: requests log their path, not headers or query.
 * Lines are buffered (sonic-boom, async, 4 KiB) and flushed every FLUSH_INTERVAL_MS: one write per
 * request line cost a thread-pool round trip each (~15% of a small request's CPU). `main` flushes on
 * exit and after startup.
 */
export function createLogger(level: string): Logger {
  const destination = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  setInterval(() => destination.flush(), FLUSH_INTERVAL_MS).unref();
  return pino(
    {
      level,
      base: { service: "plugboard" },
      redact: ["req.headers.authorization", "req.headers['x-api-key']", "token", "password", "secret"],
    },
    destination,
  );
}

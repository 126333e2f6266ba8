import pino, { type Logger } from "pino";

/** JSON lines on stdout. Credentials never reach a log: requests log their path, not headers or query. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: "plugboard" },
    redact: ["req.headers.authorization", "req.headers['x-api-key']", "token", "password", "secret"],
  });
}

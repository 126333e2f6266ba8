import pino, { type DestinationStream, type Logger } from "pino";

/** Buffered lines are written at least this often, so a quiet server's log is never stale for long. */
const FLUSH_INTERVAL_MS = 500;

/**
 * Errors as pino serializes them, less the values a failed statement carried: Drizzle puts every
 * parameter in its message (`params: …`) and in `params`, and PostgreSQL's `detail` quotes row
 * values ("Key (email)=(…) already exists"). The statement text and the SQLSTATE stay.
 */
function errorWithoutValues(error: unknown): unknown {
  const serialized = pino.stdSerializers.err(error as Error) as unknown;
  if (!serialized || typeof serialized !== "object") return serialized;
  const out = serialized as Record<string, unknown>;
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    const { query, params, code } = e as { query?: unknown; params?: unknown; code?: unknown };
    if (out.code === undefined && typeof code === "string") out.code = code; // the cause's SQLSTATE
    if (typeof query === "string" && Array.isArray(params)) {
      const listed = `\nparams: ${params}`; // as DrizzleQueryError's message prints them
      if (typeof out.message === "string") out.message = out.message.replaceAll(listed, "");
      if (typeof out.stack === "string") out.stack = out.stack.replaceAll(listed, "");
    }
  }
  for (const key of ["params", "parameters", "args", "detail"]) delete out[key];
  return out;
}

/**
 * JSON lines on stdout (or `to`: tests read what is logged). Credentials never reach a log:
 * requests log their path, not headers or query; failed statements log their text, not their
 * values (errorWithoutValues).
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
      serializers: { err: errorWithoutValues },
      redact: ["req.headers.authorization", "req.headers['x-api-key']", "token", "password", "secret"],
    },
    destination,
  );
}

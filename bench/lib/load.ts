import { type ChildProcess, spawn } from "node:child_process";
import autocannon from "autocannon";

export interface LoadResult {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  /** Responses `check` refused (0 without a check). */
  failed: number;
  /** The first refused response's body, to say why. */
  firstFailure?: string;
}

/**
 * Fires `body` at `url` with autocannon for `seconds` over `connections` keep-alive connections.
 * A `body` function is called per request with its connection's own context object.
 */
export async function load(options: {
  url: string;
  body: string | ((connection: Record<string, unknown>) => string);
  headers?: Record<string, string>;
  connections?: number;
  seconds?: number;
  /** Checks every response body (also the 2xx ones) with its connection's context: false counts as failed. */
  check?: (body: string, connection: Record<string, unknown>) => boolean;
}): Promise<LoadResult> {
  let failed = 0;
  let firstFailure: string | undefined;
  const { check } = options;
  const onResponse = check
    ? (_status: number, body: string, context: object) => {
        if (!check(body, context as Record<string, unknown>)) {
          failed++;
          firstFailure ??= body.slice(0, 500);
        }
      }
    : undefined;
  const result = await autocannon({
    url: options.url,
    method: "POST",
    connections: options.connections ?? 32,
    duration: options.seconds ?? 10,
    headers: { "content-type": "application/json", ...options.headers },
    ...(typeof options.body === "string" && !onResponse
      ? { body: options.body }
      : {
          requests: [
            {
              ...(onResponse ? { onResponse } : {}),
              setupRequest: (request: autocannon.Request, context: object) => ({
                ...request,
                body:
                  typeof options.body === "string"
                    ? options.body
                    : options.body(context as Record<string, unknown>),
              }),
            },
          ],
        }),
  });
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
    failed,
    ...(firstFailure === undefined ? {} : { firstFailure }),
  };
}

/** Starts a server process and resolves once `readyUrl` answers; `onLine` gets its stdout lines. */
export async function startProcess(
  command: string[],
  env: Record<string, string>,
  readyUrl: string,
  onLine?: (line: string) => void,
  /** How long it may take to answer `readyUrl` (under valgrind: minutes). */
  timeoutMs = 30_000,
): Promise<ChildProcess> {
  const [bin, ...args] = command;
  const child = spawn(bin as string, args, {
    // One bench credential sends far more than a connector ever does: no rate limit unless asked.
    env: { ...process.env, PLUGBOARD_RATE_LIMIT: "0", ...env },
    stdio: ["ignore", onLine ? "pipe" : "ignore", "inherit"],
  });
  if (onLine && child.stdout) {
    let buffered = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) onLine(line);
    });
  }
  for (let i = 0; i < timeoutMs / 100; i++) {
    try {
      const response = await fetch(readyUrl);
      if (response.status < 500) return child;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill("SIGKILL");
  throw new Error(`${command.join(" ")} did not start`);
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

export function table(rows: Record<string, string | number>[]): string {
  const first = rows[0];
  if (!first) return "";
  const keys = Object.keys(first);
  const widths = keys.map((k) => Math.max(k.length, ...rows.map((r) => String(r[k]).length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i] ?? 0)).join("  ");
  return [
    line(keys),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map((r) => line(keys.map((k) => String(r[k])))),
  ].join("\n");
}

/** One GraphQL operation that must succeed (a bench's set-up and checks): its data, read loosely. */
export async function postGraphQL(
  endpoint: string,
  token: string,
  query: string,
  variables: Record<string, unknown> = {},
) {
  const response = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data: Record<string, never>; errors?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  // biome-ignore lint/suspicious/noExplicitAny: the bench reads responses loosely
  return body.data as Record<string, any>;
}

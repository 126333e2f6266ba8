import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const cliPath = fileURLToPath(new URL("../../bin/plugboard.mjs", import.meta.url));

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `plugboard <args>` as a user would, with only the given environment (plus PATH). */
export function runCli(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      env: { PATH: process.env.PATH ?? "", PLUGBOARD_LOG_LEVEL: "warn", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`plugboard ${args.join(" ")} timed out\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `plugboard serve` and waits until /readyz answers. `port` is a first choice: another
 * process (any test's outgoing connection, too) may hold it, so EADDRINUSE retries on the next one.
 */
export async function startServeProcess(port: number, env: Record<string, string>): Promise<ServeProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startServeOn(attempt === 1 ? port : freePort(), env);
    } catch (error) {
      // The server says so in a sentence ("port N on HOST is already in use"), not by error code.
      if (attempt >= 5 || !/EADDRINUSE|already in use/.test(String(error))) throw error;
    }
  }
}

async function startServeOn(port: number, env: Record<string, string>): Promise<ServeProcess> {
  const child = spawn(process.execPath, [cliPath, "serve"], {
    env: { PATH: process.env.PATH ?? "", PLUGBOARD_LOG_LEVEL: "info", PORT: String(port), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk) => (output += chunk));
  child.stderr?.on("data", (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}:\n${output}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`serve did not become ready:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    child,
    url,
    output: () => output,
    stop: async (signal = "SIGTERM") => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

let nextPort =
  43_000 + Math.floor(Math.random() * 2_000) + (process.env.PLUGBOARD_TEST_DB === "postgres" ? 3_000 : 0);
export function freePort(): number {
  return nextPort++;
}

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { gqlOk } from "../helpers/graphql.ts";
import { cliPath, freePort, runCli } from "../helpers/process.ts";

const dirs: string[] = [];
function dataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "plugboard-startup-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const onPostgres = process.env.PLUGBOARD_TEST_DB === "postgres";
const KEY = /pbk_[A-Za-z0-9_-]{43}/;

/** A port held by another listener for the duration of `run`. */
async function withBusyPort<T>(run: (port: number) => Promise<T>): Promise<T> {
  const holder: Server = createServer();
  const port = await new Promise<number>((resolve, reject) => {
    holder.once("error", reject);
    holder.listen(0, "127.0.0.1", () => resolve((holder.address() as { port: number }).port));
  });
  try {
    return await run(port);
  } finally {
    await new Promise((resolve) => holder.close(resolve));
  }
}

/** `plugboard serve` until ready, with stdout (the JSON log) and stderr kept apart. */
async function serve(env: Record<string, string>) {
  const port = freePort();
  const child = spawn(process.execPath, [cliPath, "serve"], {
    env: { PATH: process.env.PATH ?? "", PLUGBOARD_LOG_LEVEL: "info", PORT: String(port), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`serve exited with ${child.exitCode}:\n${stdout}\n${stderr}`);
    const ready = await fetch(`${url}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`serve did not become ready:\n${stdout}\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    url,
    stdout: () => stdout,
    stderr: () => stderr,
    stop: async () => {
      child.kill("SIGTERM");
      return exited;
    },
  };
}

describe.skipIf(onPostgres)("first start", { timeout: 120_000 }, () => {
  it("on a busy port fails with one line naming the port and creates nothing", async () => {
    const dir = dataDir();
    const failed = await withBusyPort((port) =>
      runCli(["serve"], { PLUGBOARD_DATA_DIR: dir, PORT: String(port) }).then((result) => ({ port, result })),
    );
    expect(failed.result.code).not.toBe(0);
    const message = failed.result.stderr.trim();
    expect(message.split("\n")).toHaveLength(1);
    expect(message).toContain(`port ${failed.port}`);
    expect(message).toContain("already in use");
    expect(failed.result.stdout + failed.result.stderr).not.toMatch(KEY);

    // Nothing was bootstrapped: the next start, on a free port, is the first and shows the key.
    const server = await serve({ PLUGBOARD_DATA_DIR: dir });
    const key = server.stderr().match(KEY)?.[0];
    expect(key, server.stderr()).toBeDefined();
    const viewer = await gqlOk<{ viewer: { member: { role: string } } }>(
      `${server.url}/graphql`,
      "{ viewer { member { role } } }",
      {},
      { token: key as string },
    );
    expect(viewer.viewer.member.role).toBe("OWNER");
    expect(await server.stop()).toBe(0);
  });

  it("prints the key on stderr, framed, never in the JSON log; an ignored admin token is logged", async () => {
    const dir = dataDir();
    const first = await serve({ PLUGBOARD_DATA_DIR: dir });
    expect(await first.stop()).toBe(0);
    expect(first.stdout()).not.toMatch(KEY);
    const lines = first.stdout().trim().split("\n");
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    const stderr = first.stderr();
    const key = stderr.match(KEY)?.[0] as string;
    expect(key).toBeDefined();
    // The key sits inside a frame of rules, on a line of its own.
    expect(stderr).toMatch(new RegExp(`={20,}[\\s\\S]*\\n\\s*${key}\\s*\\n[\\s\\S]*={20,}`));

    const token = "pbk_a_later_admin_token_that_is_long_enough_0123";
    const later = await serve({ PLUGBOARD_DATA_DIR: dir, PLUGBOARD_ADMIN_TOKEN: token });
    expect(await later.stop()).toBe(0);
    const warning = later
      .stdout()
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { level: number; msg: string })
      .find((entry) => entry.msg.includes("PLUGBOARD_ADMIN_TOKEN"));
    expect(warning?.level).toBe(40);
    expect(warning?.msg).toContain("ignored");
    expect(later.stdout() + later.stderr()).not.toContain(token);
  });
});

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../helpers/database.ts";
import { gqlOk } from "../helpers/graphql.ts";
import { freePort, runCli, startServeProcess } from "../helpers/process.ts";

const dirs: string[] = [];
function dataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "plugboard-test-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const onPostgres = process.env.PLUGBOARD_TEST_DB === "postgres";
const TOKEN = "pbk_cli_test_token_that_is_long_enough_0123456789";

describe.skipIf(onPostgres)("the CLI on embedded PGlite", { timeout: 120_000 }, () => {
  it("bootstraps once, keeps data across restarts and refuses a second process", async () => {
    const dir = dataDir();
    const env = { PLUGBOARD_DATA_DIR: dir };
    const first = await startServeProcess(freePort(), env);
    const generated = first.output().match(/pbk_[A-Za-z0-9_-]{43}/)?.[0];
    expect(generated).toBeDefined();
    const token = generated as string;
    const url = `${first.url}/graphql`;
    await gqlOk(
      url,
      `mutation { createMember(input: { email: "kept@example.com", role: MEMBER }) { member { id } } }`,
      {},
      { token },
    );

    const second = await runCli(["serve"], { ...env, PORT: String(freePort()) });
    expect(second.code).not.toBe(0);
    expect(second.stderr).toMatch(/in use by process \d+/);
    expect(await first.stop()).toBe(0);

    const restarted = await startServeProcess(freePort(), { ...env, PLUGBOARD_ADMIN_TOKEN: TOKEN });
    expect(restarted.output()).not.toMatch(/pbk_[A-Za-z0-9_-]{43}/);
    const members = await gqlOk<{ members: { email: string }[] }>(
      `${restarted.url}/graphql`,
      "{ members { email } }",
      {},
      { token },
    );
    expect(members.members.map((m) => m.email).sort()).toEqual(["admin@localhost", "kept@example.com"]);
    // A later start with another admin token does not add that token.
    const refused = await fetch(`${restarted.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ query: "{ viewer { scopes } }" }),
    });
    expect(refused.status).toBe(401);
    expect(await restarted.stop()).toBe(0);
  });

  it("creates workspaces and API keys and prints JSON", async () => {
    const env = { PLUGBOARD_DATA_DIR: dataDir(), PLUGBOARD_ADMIN_TOKEN: TOKEN };
    const created = await runCli(
      ["create-workspace", "--name", "Acme", "--owner-email", "boss@acme.test"],
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    const workspace = JSON.parse(created.stdout) as { workspaceId: string; memberId: string; token: string };
    expect(workspace).toMatchObject({
      workspaceId: expect.stringMatching(/^ws_/),
      memberId: expect.stringMatching(/^mem_/),
    });
    expect(workspace.token).toMatch(/^pbk_/);
    const key = await runCli(["create-api-key", "--member-id", workspace.memberId, "--scopes", "READ"], env);
    expect(key.code, key.stderr).toBe(0);
    const issued = JSON.parse(key.stdout) as { token: string; workspaceId: string };
    expect(issued.workspaceId).toBe(workspace.workspaceId);

    const server = await startServeProcess(freePort(), env);
    const viewer = await gqlOk<{ viewer: { workspace: { name: string }; scopes: string[] } }>(
      `${server.url}/graphql`,
      "{ viewer { workspace { name } scopes } }",
      {},
      { token: issued.token },
    );
    expect(viewer.viewer).toEqual({ workspace: { name: "Acme" }, scopes: ["READ"] });
    await server.stop();
  });

  it("prints usage without a command instead of serving", async () => {
    const bare = await runCli([], { PLUGBOARD_DATA_DIR: "memory://", PORT: String(freePort()) }, 20_000);
    expect(bare.code).toBe(64);
    expect(bare.stderr).toContain("Usage: plugboard <command>");
    expect(bare.stderr).toContain("serve");
    expect(bare.stdout).toBe("");
  });

  it("keeps every --scopes flag and accepts comma lists; a first-start key goes to stderr, not the JSON", async () => {
    const env = { PLUGBOARD_DATA_DIR: dataDir() };
    const created = await runCli(
      ["create-workspace", "--name", "Acme", "--owner-email", "boss@acme.test"],
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    // The empty database was bootstrapped on the way: its key is shown apart from the output.
    expect(created.stderr).toMatch(/pbk_[A-Za-z0-9_-]{43}/);
    const workspace = JSON.parse(created.stdout) as { memberId: string; token: string };
    const scopesOf = async (args: string[]) => {
      const key = await runCli(["create-api-key", "--member-id", workspace.memberId, ...args], env);
      expect(key.code, key.stderr).toBe(0);
      const { apiKeyId } = JSON.parse(key.stdout) as { apiKeyId: string };
      return apiKeyId;
    };
    const repeated = await scopesOf(["--scopes", "READ", "--scopes", "WRITE"]);
    const listed = await scopesOf(["--scopes", "read, admin"]);

    const server = await startServeProcess(freePort(), env);
    expect(server.output()).not.toMatch(/pbk_[A-Za-z0-9_-]{43}/); // shown once, by the first command
    const keys = await gqlOk<{ apiKeys: { id: string; scopes: string[] }[] }>(
      `${server.url}/graphql`,
      "{ apiKeys { id scopes } }",
      {},
      { token: workspace.token },
    );
    const viewer = await gqlOk<{ createMember: { member: { id: string } } }>(
      `${server.url}/graphql`,
      `mutation { createMember(input: { email: "viewer@acme.test", role: VIEWER }) { member { id } } }`,
      {},
      { token: workspace.token },
    );
    await server.stop();
    const scopes = new Map(keys.apiKeys.map((key) => [key.id, [...key.scopes].sort()]));
    expect(scopes.get(repeated)).toEqual(["READ", "WRITE"]);
    expect(scopes.get(listed)).toEqual(["ADMIN", "READ"]);

    // The CLI issues keys under the API's rule: scopes beyond the member's role are refused, not
    // quietly dropped, and an expiry must be in the future.
    const viewerId = viewer.createMember.member.id;
    const tooWide = await runCli(["create-api-key", "--member-id", viewerId, "--scopes", "READ,WRITE"], env);
    expect(tooWide.code, tooWide.stdout).toBe(64);
    expect(tooWide.stderr).toContain("WRITE");
    expect(tooWide.stdout).toBe("");
    const past = await runCli(
      ["create-api-key", "--member-id", viewerId, "--expires-at", "2001-01-01T00:00:00Z"],
      env,
    );
    expect(past.code, past.stdout).toBe(64);
    expect(past.stderr).toContain("expiresAt");
  });

  it("fails fast on bad configuration, naming the variable", async () => {
    const port = await runCli(["serve"], { PORT: "eighty", PLUGBOARD_DATA_DIR: "memory://" });
    expect(port.code).not.toBe(0);
    expect(port.stderr).toContain("PORT");
    const url = await runCli(["serve"], { DATABASE_URL: "mysql://nope", PLUGBOARD_DATA_DIR: "memory://" });
    expect(url.code).not.toBe(0);
    expect(url.stderr).toContain("DATABASE_URL");
    const usage = await runCli(["create-workspace", "--name", "x"], { PLUGBOARD_DATA_DIR: "memory://" });
    expect(usage.code).toBe(64);
    expect(usage.stderr).toContain("--owner-email");
  });
});

describe.skipIf(!onPostgres)("several processes on one PostgreSQL", { timeout: 120_000 }, () => {
  it("bootstraps exactly once when they start together", async () => {
    const database = await createTestDatabase();
    // A fresh, unmigrated database: drop the clone's tables by making an empty one instead.
    const url = new URL(database.url as string);
    const admin = new URL(process.env.TEST_DATABASE_URL as string);
    const name = `${url.pathname.slice(1)}_empty`;
    const { default: postgres } = await import("postgres");
    const sql = postgres(admin.toString(), { max: 1, onnotice: () => {} });
    await sql.unsafe(`create database ${name}`);
    url.pathname = `/${name}`;
    const env = { DATABASE_URL: url.toString(), PLUGBOARD_ADMIN_TOKEN: TOKEN };
    const servers = await Promise.all([
      startServeProcess(freePort(), env),
      startServeProcess(freePort(), env),
    ]);
    const check = postgres(url.toString(), { max: 1, onnotice: () => {} });
    const [row] =
      await check`select (select count(*) from workspaces)::int as workspaces, (select count(*) from api_keys)::int as keys`;
    expect(row).toEqual({ workspaces: 1, keys: 1 });
    for (const server of servers) {
      const viewer = await gqlOk<{ viewer: { scopes: string[] } }>(
        `${server.url}/graphql`,
        "{ viewer { scopes } }",
        {},
        { token: TOKEN },
      );
      expect(viewer.viewer.scopes).toContain("ADMIN");
    }
    await Promise.all(servers.map((server) => server.stop()));
    await check.end();
    await sql.unsafe(`drop database if exists ${name} with (force)`);
    await sql.end();
    await database.drop();
  });
});

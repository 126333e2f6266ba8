import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/kernel/db.ts";
import { type Api, api, createResource, type Data, firstError } from "../helpers/api.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
let owner: Api;
beforeAll(async () => {
  server = await startServer();
  owner = api(server, server.owner.token);
});
afterAll(() => server?.close());

const PAGE = `query($after: String, $first: Int, $last: Int, $order: SortDirection, $since: DateTime, $filter: ChangeFilter) {
  changes(after: $after, first: $first, last: $last, order: $order, since: $since, filter: $filter) {
    headCursor pageInfo { hasNextPage hasPreviousPage endCursor } nodes { id occurredAt resourceType } } }`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Walks the feed newest first, `first` at a time, until hasNextPage is false. */
async function walkDown(first: number, filter?: Data): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const page: Data = (await owner.ok(PAGE, { after, first, order: "DESC", filter })).changes;
    ids.push(...page.nodes.map((n: Data) => n.id));
    if (!page.pageInfo.hasNextPage) return ids;
    after = page.pageInfo.endCursor;
  }
  throw new Error("the walk did not end");
}

async function walkUp(filter?: Data): Promise<string[]> {
  return (await owner.ok(PAGE, { after: "0", first: 1000, filter })).changes.nodes.map((n: Data) => n.id);
}

describe("changes(order: DESC)", () => {
  it("walks from the newest down, cursor-exact: every change once, the ascending walk reversed", async () => {
    for (let i = 0; i < 7; i++)
      await createResource(owner, i % 3 ? "task" : "contact", {
        name: `n${i}`,
        ...(i % 3 ? { status: "todo" } : {}),
      });
    const up = await walkUp();
    expect(up.length).toBeGreaterThanOrEqual(7);
    for (const size of [1, 2, 3, 1000]) expect(await walkDown(size)).toEqual([...up].reverse());
    const filter = { types: ["contact"] };
    const sparse = await walkUp(filter);
    expect(sparse).toHaveLength(3);
    expect(await walkDown(2, filter)).toEqual([...sparse].reverse());
    const where = { where: { field: "status", eq: "todo" } };
    expect(await walkDown(3, where)).toEqual([...(await walkUp(where))].reverse());
  });

  it("starts at the head, reports pages around it, and refuses cursors past it", async () => {
    const first = (await owner.ok(PAGE, { first: 2, order: "DESC" })).changes;
    expect(first.nodes[0].id).toBe(first.headCursor);
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect(first.pageInfo.endCursor).toBe(first.nodes[1].id);
    const head = Number(first.headCursor);
    // head + 1 means "from the newest"; one more would be a cursor nobody was given.
    const top = (await owner.ok(PAGE, { after: String(head + 1), first: 1, order: "DESC" })).changes;
    expect(top.nodes.map((n: Data) => n.id)).toEqual([String(head)]);
    const past = await owner.raw(PAGE, { after: String(head + 2), first: 1, order: "DESC" });
    expect(firstError(past)).toMatchObject({ code: "BAD_USER_INPUT", field: "after" });
    const last = await owner.raw(PAGE, { last: 2, order: "DESC" });
    expect(firstError(last)).toMatchObject({ code: "BAD_USER_INPUT", field: "last" });
  });
});

describe("changes(since) and cursorAt(time)", () => {
  it("enters the feed at a time, exactly before the first change at or after it", async () => {
    await createResource(owner, "task", { name: "before" });
    await sleep(30);
    const later = await createResource(owner, "task", { name: "at" });
    await sleep(30);
    await createResource(owner, "task", { name: "after" });
    // Read once all three are numbered: a mutation waits for its number only so long, and
    // numbering waits for older write transactions anywhere on the PostgreSQL instance.
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(20)) {
      const [pending] = await queryRows<{ count: number }>(
        server.database.db,
        sql`select count(*)::int as count from changes where seq is null`,
      );
      if (pending?.count === 0) break;
    }
    const [row] = await queryRows<{ seq: string | number; occurred_at: Date }>(
      server.database.db,
      sql`select seq, occurred_at from changes where resource_id = ${later.id}`,
    );
    const time = new Date(row?.occurred_at as Date).toISOString();
    const cursor = (await owner.ok(`query($t: DateTime!) { cursorAt(time: $t) }`, { t: time })).cursorAt;
    expect(cursor).toBe(String(Number(row?.seq) - 1));
    const since = (await owner.ok(PAGE, { since: time, first: 10 })).changes;
    expect(since.nodes).toHaveLength(2);
    expect(since.nodes[0].id).toBe(String(row?.seq));
    expect(since.pageInfo.hasPreviousPage).toBe(true);
    // The same page as `after: cursorAt(time)`.
    expect((await owner.ok(PAGE, { after: cursor, first: 10 })).changes.nodes).toEqual(since.nodes);

    const head = (await owner.ok(PAGE, { first: 0 })).changes.headCursor;
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await owner.ok(`query($t: DateTime!) { cursorAt(time: $t) }`, { t: future })).cursorAt).toBe(
      head,
    );
    expect(
      (await owner.ok(`query($t: DateTime!) { cursorAt(time: $t) }`, { t: "2000-01-01T00:00:00Z" })).cursorAt,
    ).toBe("0");
  });

  it("refuses since with after, with DESC, or with last", async () => {
    const t = new Date().toISOString();
    for (const variables of [
      { since: t, after: "0" },
      { since: t, order: "DESC" },
      { since: t, last: 2 },
    ]) {
      expect(firstError(await owner.raw(PAGE, variables))).toMatchObject({
        code: "BAD_USER_INPUT",
        field: "since",
      });
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, api, createResource, type Data, firstError } from "../helpers/api.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
let owner: Api;
beforeAll(async () => {
  server = await startServer();
  owner = api(server, server.owner.token);
});
afterAll(() => server?.close());

const CHANGES = `query($after: String, $first: Int) {
  changes(after: $after, first: $first) { headCursor nodes { id } pageInfo { endCursor hasNextPage } } }`;

async function head(): Promise<number> {
  return Number((await owner.ok(CHANGES, { first: 0 })).changes.headCursor);
}

describe("changes(after:) cursors", () => {
  it("refuses a cursor past the head, naming the head, instead of skipping the changes up to it", async () => {
    const start = await head();
    const ahead = String(start + 4);
    const refused = await owner.raw(CHANGES, { after: ahead });
    expect(firstError(refused)).toEqual({
      code: "BAD_USER_INPUT",
      field: "after",
      message: `after "${ahead}" is past the newest change "${start}" of this workspace; use headCursor.`,
    });
    expect(refused.errors?.[0]?.extensions?.headCursor).toBe(String(start));
    // first: 0 is no way around it.
    expect(firstError(await owner.raw(CHANGES, { after: ahead, first: 0 })).code).toBe("BAD_USER_INPUT");

    // The reported bug: the ids up to the forged cursor were never returned once they existed.
    for (let i = 0; i < 6; i++) await createResource(owner, "contact", { name: `Gap ${i}` });
    const all = await owner.ok(CHANGES, { after: String(start), first: 100 });
    expect(all.changes.nodes.map((n: Data) => Number(n.id))).toEqual(
      [1, 2, 3, 4, 5, 6].map((i) => start + i),
    );
  });

  it("accepts the head itself, and every id as soon as it is seen, while writers are running", async () => {
    const start = await head();
    expect((await owner.ok(CHANGES, { after: String(start) })).changes.nodes).toEqual([]);
    let writing = true;
    const writers = Array.from({ length: 3 }, async (_, w) => {
      let n = 0;
      while (writing) await createResource(owner, "contact", { name: `Race ${w}.${n++}` });
    });
    // A reader that passes back exactly what it was just given: the head, the newest id of a page
    // (just numbered by the sequencer) or the page's endCursor. None of them may be refused.
    const NEWEST = "{ changes(last: 1) { headCursor nodes { id } } }";
    let cursor = String(start);
    for (let round = 0; round < 30; round++) {
      const page = (await owner.ok(CHANGES, { after: cursor, first: 5 })).changes;
      const newest = (await owner.ok(NEWEST)).changes;
      const pick = [page.pageInfo.endCursor ?? cursor, page.headCursor, newest.nodes[0]?.id ?? cursor];
      cursor = pick[round % 3] as string;
    }
    writing = false;
    await Promise.all(writers);
    expect(Number(cursor)).toBeGreaterThan(start);
  });

  it.each([
    ["abc"],
    ["-1"],
    ["1.5"],
    [""],
    ["1e3"],
    [" 7"],
    ["0x10"],
    ["9999999999999999999999"],
    ["WzEsInJlc18xIl0"],
  ])("refuses the forged cursor %j as BAD_USER_INPUT", async (after) => {
    const result = await owner.raw(CHANGES, { after });
    expect(firstError(result)).toMatchObject({ code: "BAD_USER_INPUT", field: "after" });
  });
});

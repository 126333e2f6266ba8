import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * postgres.js keeps a pool's connections in queues (open, busy, full, …). Under load, with every
 * connection busy, each query takes the first busy connection and puts it back at the end
 * (`go(busy.shift(), query)`, then `move`: `remove` from its queue, `push`). Unpatched, `shift` left
 * an empty slot at the front that only a shift emptying the queue cleared, so a pool that stays
 * busy grew its array by a slot per query, and `remove` scanned all of them: CPU per query rose
 * steadily (38 → 270 µs per `select 1` over 40 s at 32 concurrent queries on a pool of 3), and the
 * slots were never freed. patches/postgres+3.4.9.patch compacts the array.
 */
type Queue = {
  readonly length: number;
  push(x: unknown): unknown;
  shift(): unknown;
  remove(x: unknown): unknown;
};

const cjsDir = dirname(createRequire(import.meta.url).resolve("postgres"));
const modules = {
  esm: join(cjsDir, "../../src/queue.js"),
  cjs: join(cjsDir, "queue.js"),
};

/** An array that remembers how long it grew; `Queue` copies its initial items with `slice`, which
 * makes the copy it keeps a `Measured` too (Symbol.species), so every one made is listed. */
class Measured extends Array<unknown> {
  static made: Measured[] = [];
  longest = 0;
  constructor(...args: number[]) {
    super(...args);
    Measured.made.push(this);
  }
  override push(...items: unknown[]): number {
    const length = super.push(...items);
    this.longest = Math.max(this.longest, length);
    return length;
  }
}

async function loadQueue(path: string): Promise<(initial: unknown[]) => Queue> {
  const module = await import(pathToFileURL(path).href);
  return (module.default ?? module) as (initial: unknown[]) => Queue;
}

describe.each(Object.entries(modules))("postgres.js connection queue (%s build)", (_build, path) => {
  it("stays as long as what it holds while a busy pool rotates its connections", async () => {
    const Queue = await loadQueue(path);
    Measured.made = [];
    const busy = Queue(Measured.from(["c1", "c2", "c3"]));
    const [, kept] = Measured.made; // [0] is the argument, [1] the copy the queue keeps
    expect(kept).toBeInstanceOf(Measured);
    for (let query = 0; query < 10_000; query++) {
      const connection = busy.shift(); // handler(): go(busy.shift(), query)
      expect(busy.remove(connection)).toBeNull(); // move(): c.queue.remove(c), shifted out already
      busy.push(connection);
    }
    expect(busy.length).toBe(3);
    expect([busy.shift(), busy.shift(), busy.shift()]).toEqual(["c2", "c3", "c1"]); // 10,000 turns: one past a whole lap
    expect(kept?.longest).toBeLessThan(100); // unpatched: 10,003
  });

  it("removes a queued item wherever it stands, once", async () => {
    const Queue = await loadQueue(path);
    const queue = Queue([]);
    for (let i = 0; i < 200; i++) queue.push(i);
    for (let i = 0; i < 150; i++) expect(queue.shift()).toBe(i);
    expect(queue.remove(10)).toBeNull(); // shifted out already
    expect(queue.remove(170)).toBe(170);
    expect(queue.remove(170)).toBeNull();
    expect(queue.length).toBe(49);
    const rest: unknown[] = [];
    while (queue.length) rest.push(queue.shift());
    expect(rest).toEqual(Array.from({ length: 50 }, (_, i) => 150 + i).filter((i) => i !== 170));
  });
});

import { entityKind, Param, SQL, StringChunk, sql } from "drizzle-orm";
import { pgTable, text } from "drizzle-orm/pg-core";
import { describe, expect, it } from "vitest";

/**
 * Drizzle's `SQL` constructor asks `is(chunk, Table)` of every chunk, to list the tables a template
 * uses. For anything not a table that answer walks the chunk's class chain (an `in` check and a
 * symbol read per class): a request builds a few hundred chunks (policy, filter, keyset, the page's
 * statement), and `is` was ~3% of an email lookup's server CPU (profile of bench:peers' email read).
 * patches/drizzle-orm+0.45.4.patch answers a template's own chunks — text, nested templates,
 * params — by `instanceof` first. Observed here through the class chain the walk reads.
 */
function kindReads(run: () => void): number {
  let reads = 0;
  const classes = [StringChunk, SQL, Param];
  const kept = classes.map((c) => Object.getOwnPropertyDescriptor(c, entityKind));
  for (const [i, c] of classes.entries()) {
    const kind = kept[i]?.value as string;
    Object.defineProperty(c, entityKind, {
      configurable: true,
      get: () => {
        reads++;
        return kind;
      },
    });
  }
  try {
    run();
  } finally {
    for (const [i, c] of classes.entries())
      Object.defineProperty(c, entityKind, kept[i] as PropertyDescriptor);
  }
  return reads;
}

describe("drizzle's SQL templates (patched)", () => {
  it("builds a template of text, nested templates and params without walking their classes", () => {
    const reads = kindReads(() => {
      for (let i = 0; i < 100; i++) sql`select ${sql.raw("1")} where ${sql.param(i)} = ${sql`${i}`}`;
    });
    expect(reads).toBe(0);
  });

  it("still lists the tables a template names", () => {
    const accounts = pgTable("accounts", { id: text("id") });
    const query = sql`select * from ${accounts} where ${accounts.id} = ${"a"}`;
    // `usedTables` is internal to Drizzle: what the constructor's check is for.
    expect((query as unknown as { usedTables: string[] }).usedTables).toEqual(["accounts"]);
  });
});

import { sql } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import { describe, expect, it } from "vitest";
import { renderSql } from "../../src/kernel/renderSql.ts";
import { resources } from "../../src/ledger/tables.ts";

// renderSql must give exactly Drizzle's text and parameters, whatever the template holds.
const dialect = new PgDialect();

const CASES: [string, ReturnType<typeof sql>][] = [
  ["text only", sql`select 1`],
  ["an empty template", sql``],
  ["primitive values", sql`select ${"a"}, ${1}, ${2.5}, ${true}, ${null}, ${10n}`],
  [
    "nested templates and joins",
    sql`where ${sql.join([sql`a = ${"x"}`, sql`b = ${"y"}`, sql.raw("c")], sql` and `)} and ${sql`d in (${sql.join([1, 2, 3], sql`, `)})`}`,
  ],
  ["sql.param", sql`select ${sql.param("p")}, ${sql.param(null)}, ${sql.param(sql`now()`)}`],
  ["a missing chunk", sql.join([sql`a`, undefined as unknown as ReturnType<typeof sql>, sql`b`], sql` `)],
  [
    "a column (left to Drizzle)",
    sql`select ${resources.id} from ${resources} where ${resources.name} = ${"n"}`,
  ],
  ["an array (left to Drizzle)", sql`select ${sql`x`} where y in ${["a", "b"]}`],
  ["inlined params (left to Drizzle)", sql`select ${"it's"}, ${3}`.inlineParams()],
  ["a Date (left to Drizzle)", sql`select ${new Date("2026-12-04T00:00:00Z")}::timestamptz, ${"after"}`],
  ["an identifier (left to Drizzle)", sql`select ${sql.identifier("name")} from t where a = ${"v"}`],
  ["an object value (left to Drizzle)", sql`select ${{ a: 1 }}::jsonb`],
];

describe("renderSql", () => {
  for (const [label, query] of CASES) {
    it(`renders ${label} as Drizzle does`, () => {
      const ours = renderSql(query);
      const drizzles = dialect.sqlToQuery(query);
      expect({ sql: ours.sql, params: ours.params }).toEqual({ sql: drizzles.sql, params: drizzles.params });
    });
  }

  it("numbers parameters across nested templates in order", () => {
    expect(renderSql(sql`a ${1} ${sql`b ${2} ${sql`c ${3}`}`} ${4}`)).toEqual({
      sql: "a $1 b $2 c $3 $4",
      params: [1, 2, 3, 4],
    });
  });
});

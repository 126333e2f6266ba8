import { sql } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import { describe, expect, it } from "vitest";
import {
  fillStatement,
  hole,
  type KeptStatement,
  keepStatement,
  renderSql,
} from "../../src/kernel/renderSql.ts";
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

describe("keepStatement and fillStatement", () => {
  it("keep a statement's text and put each request's hole parameters in their places", () => {
    const statement = (where: ReturnType<typeof sql>, bound: ReturnType<typeof sql>) =>
      sql`select ${"fixed"} from t where ${where} and ${sql`k = ${"ws"}`} and ${bound} limit 5`;
    const first = [hole(sql`a @> ${'{"f":1}'}::jsonb`), hole(sql`(id) > (${"x"})`)];
    const kept = keepStatement(statement(first[0] as never, first[1] as never), first);
    expect(kept?.text).toBe("select $1 from t where a @> $2::jsonb and k = $3 and (id) > ($4) limit 5");
    // The holes' places keep no request's values.
    expect(kept?.params).toEqual(["fixed", null, "ws", null]);
    const second = [sql`a @> ${'{"g":2}'}::jsonb`, sql`(id) > (${"y"})`].map((h) => renderSql(h).params);
    expect(fillStatement(kept as KeptStatement, second)).toEqual({
      sql: kept?.text,
      params: ["fixed", '{"g":2}', "ws", "y"],
    });
    // What a fresh build of the second request renders.
    expect(fillStatement(kept as KeptStatement, second)).toEqual(
      renderSql(statement(sql`a @> ${'{"g":2}'}::jsonb`, sql`(id) > (${"y"})`)),
    );
  });

  it("fill every place a hole appears in", () => {
    const h = hole(sql`x = ${1}`);
    const kept = keepStatement(sql`${h} or ${h}`, [h]) as KeptStatement;
    expect(fillStatement(kept, [[2]])).toEqual({ sql: "x = $1 or x = $2", params: [2, 2] });
  });

  it("keep nothing when a hole is missing or only Drizzle can render the statement", () => {
    const h = hole(sql`x = ${1}`);
    expect(keepStatement(sql`select 1`, [h])).toBeUndefined();
    expect(keepStatement(sql`select ${new Date(0)}::timestamptz where ${h}`, [h])).toBeUndefined();
  });

  it("refuse hole parameters that do not fit the kept statement", () => {
    const h = hole(sql`x = ${1}`);
    const kept = keepStatement(sql`where ${h}`, [h]) as KeptStatement;
    expect(() => fillStatement(kept, [[1, 2]])).toThrow(/do not fit/);
  });
});

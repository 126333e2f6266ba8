import { Param, Placeholder, SQL, StringChunk } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";

/** Renders `sql` templates to text and parameters, as `db.execute` does (no casing options in use). */
const dialect = new PgDialect();

interface Rendered {
  sql: string;
  params: unknown[];
}

/** Where a hole's parameters went in a rendered statement. */
interface HoleMark {
  hole: SQL;
  start: number;
  count: number;
}

/**
 * A `sql` template as text with `$n` parameters — what `PgDialect#sqlToQuery` gives, for the
 * chunks a hot read is made of (text, nested templates, primitive values, `sql.param`). Drizzle's
 * own walk asks `is(chunk, …)` of every chunk for a dozen kinds of entity: for a filtered listing's
 * statement (policy, filter, keyset, links) that was about a tenth of the email read's Node CPU
 * (bench:peers' email read under `node --cpu-prof`). Any other chunk (a column, a table, an array,
 * a Date, inlined params) hands the whole template to Drizzle, so the text is always Drizzle's.
 */
export function renderSql(query: SQL): Rendered {
  const rendered: Rendered = { sql: "", params: [] };
  return appendChunks(query, rendered) ? rendered : dialect.sqlToQuery(query);
}

/** Fragments made by `hole`: `appendChunks` notes where their parameters go. */
const HOLES = new WeakSet<SQL>();

/**
 * Marks `fragment` as a hole of a statement kept by its shape (`keepStatement`): the part of it
 * that varies by request. Only `keepStatement`'s own list of holes counts: elsewhere the mark
 * changes nothing.
 */
export function hole(fragment: SQL): SQL {
  HOLES.add(fragment);
  return fragment;
}

/**
 * A statement rendered once for every request whose holes render to the same text: only the
 * holes' parameters differ between them (`fillStatement`).
 */
export interface KeptStatement {
  text: string;
  params: readonly unknown[];
  /** Per occurrence of a hole: which one (its index among the holes), where its parameters start. */
  marks: readonly { index: number; start: number; count: number }[];
}

/**
 * Renders `statement`, which holds `holes` (made by `hole`) and whose every other part is the
 * same for every request of its key, as a statement to keep; undefined when a hole could not be
 * placed (a chunk only Drizzle renders) or was not rendered whole, so it is not kept.
 */
export function keepStatement(statement: SQL, holes: readonly SQL[]): KeptStatement | undefined {
  const out: Rendered & { marks: HoleMark[] } = { sql: "", params: [], marks: [] };
  if (!appendChunks(statement, out)) return undefined;
  const marks: { index: number; start: number; count: number }[] = [];
  for (const mark of out.marks) {
    const index = holes.indexOf(mark.hole);
    if (index >= 0) marks.push({ index, start: mark.start, count: mark.count });
  }
  // Every hole must be in the statement: a hole left out would mean its parameters are not its.
  if (holes.some((_, index) => !marks.some((mark) => mark.index === index))) return undefined;
  // The holes' places hold no request's values: each request fills in its own.
  for (const { start, count } of marks) out.params.fill(null, start, start + count);
  return { text: out.sql, params: out.params, marks };
}

/**
 * A kept statement for this request: its text, and its parameters with each hole's from this
 * request's `holeParams` (the holes rendered alone, in `keepStatement`'s order: same text, so as
 * many parameters).
 */
export function fillStatement(kept: KeptStatement, holeParams: readonly unknown[][]): Rendered {
  const params = kept.params.slice();
  for (const { index, start, count } of kept.marks) {
    const values = holeParams[index] as unknown[];
    if (values.length !== count) throw new Error("a hole's parameters do not fit its kept statement");
    for (let i = 0; i < count; i++) params[start + i] = values[i];
  }
  return { sql: kept.text, params };
}

/**
 * A string as a SQL literal, for text that cannot be a parameter (COPY, a kept statement's raw
 * parts): with standard_conforming_strings (the default since 9.1) only quotes are doubled.
 */
export const sqlTextLiteral = (text: string) => `'${text.replaceAll("'", "''")}'`;

/** Appends `query`'s chunks (noting holes in `out.marks`); false when one is of a kind only Drizzle renders. */
function appendChunks(query: SQL, out: Rendered & { marks?: HoleMark[] }): boolean {
  // Set by `.inlineParams()` (private in Drizzle's types): Drizzle then writes values as literals.
  if ((query as unknown as { shouldInlineParams: boolean }).shouldInlineParams) return false;
  for (const chunk of query.queryChunks as unknown[]) {
    if (chunk instanceof StringChunk) out.sql += chunk.value.join("");
    else if (chunk instanceof SQL) {
      const start = out.params.length;
      if (!appendChunks(chunk, out)) return false;
      if (out.marks && HOLES.has(chunk))
        out.marks.push({ hole: chunk, start, count: out.params.length - start });
    } else if (chunk === undefined) {
      // Drizzle renders a missing chunk as nothing.
    } else if (isPrimitive(chunk)) appendParam(chunk, out);
    else if (chunk instanceof Param && !(chunk.value instanceof Placeholder)) {
      const value = chunk.value === null ? null : chunk.encoder.mapToDriverValue(chunk.value);
      if (value instanceof SQL) {
        if (!appendChunks(value, out)) return false;
      } else appendParam(value, out);
    } else return false;
  }
  return true;
}

function isPrimitive(value: unknown): boolean {
  const type = typeof value;
  return value === null || type === "string" || type === "number" || type === "boolean" || type === "bigint";
}

function appendParam(value: unknown, out: Rendered): void {
  out.params.push(value);
  out.sql += `$${out.params.length}`;
}

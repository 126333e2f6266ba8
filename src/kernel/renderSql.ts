import { Param, Placeholder, SQL, StringChunk } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";

/** Renders `sql` templates to text and parameters, as `db.execute` does (no casing options in use). */
const dialect = new PgDialect();

interface Rendered {
  sql: string;
  params: unknown[];
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

/**
 * A string as a SQL literal, for text that cannot be a parameter (COPY, a kept statement's raw
 * parts): with standard_conforming_strings (the default since 9.1) only quotes are doubled.
 */
export const sqlTextLiteral = (text: string) => `'${text.replaceAll("'", "''")}'`;

/** Appends `query`'s chunks; false when one is of a kind only Drizzle renders. */
function appendChunks(query: SQL, out: Rendered): boolean {
  // Set by `.inlineParams()` (private in Drizzle's types): Drizzle then writes values as literals.
  if ((query as unknown as { shouldInlineParams: boolean }).shouldInlineParams) return false;
  for (const chunk of query.queryChunks as unknown[]) {
    if (chunk instanceof StringChunk) out.sql += chunk.value.join("");
    else if (chunk instanceof SQL) {
      if (!appendChunks(chunk, out)) return false;
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

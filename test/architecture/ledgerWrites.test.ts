import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The ledger is the only writer of resource and change rows (docs/architecture.md, invariant 1):
// dependency rules cannot see SQL text, so this looks for writes to those tables in the source.
const src = fileURLToPath(new URL("../../src/", import.meta.url));
const LEDGER_TABLES = "resources|changes|change_feeds|schema_changes";
const SQL_WRITE = new RegExp(
  `(insert\\s+into|update|delete\\s+from)\\s+"?(${LEDGER_TABLES})"?(?![\\w"])`,
  "i",
);
const DRIZZLE_WRITE = /\.(insert|update|delete)\((resources|changes|changeFeeds|schemaChanges)\)/;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

function writesIn(file: string): string[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .flatMap((line, i) =>
      SQL_WRITE.test(line) || DRIZZLE_WRITE.test(line) ? [`${i + 1}: ${line.trim()}`] : [],
    );
}

describe("ledger writes", () => {
  it("finds the ledger's own writes (the patterns match real code)", () => {
    const ledger = sources(join(src, "ledger")).flatMap(writesIn);
    expect(ledger.some((line) => /insert into changes/.test(line))).toBe(true);
    expect(ledger.some((line) => /update resources/.test(line))).toBe(true);
  });

  it("finds no write of resources, changes, change_feeds or schema_changes outside src/ledger/", () => {
    const outside = sources(src)
      .filter((file) => !relative(src, file).startsWith("ledger"))
      .flatMap((file) => writesIn(file).map((line) => `${relative(src, file)}:${line}`));
    expect(outside).toEqual([]);
  });
});

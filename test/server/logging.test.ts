import { PassThrough } from "node:stream";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/kernel/logger.ts";
import { openDatabase } from "../../src/server/database.ts";
import { createTestDatabase } from "../helpers/database.ts";

const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
});

describe("logging a failed statement", () => {
  it("logs the statement and its SQLSTATE, never its parameter values", async () => {
    const testDb = await createTestDatabase();
    cleanup.push(() => testDb.drop());
    const database = await openDatabase({ url: testDb.url, dataDir: "memory://" });
    cleanup.push(() => database.close());
    const stream = new PassThrough();
    let text = "";
    stream.on("data", (chunk) => (text += chunk));
    const logger = createLogger("info", stream);

    const secret = "s3cret-value-that-must-not-be-logged";
    // A real failure from the driver: a unique violation, whose `detail` also quotes the value.
    await database.db.execute(sql`create table logged_secrets (value text primary key)`);
    await database.db.execute(sql`insert into logged_secrets values (${secret})`);
    const error = await database.db.execute(sql`insert into logged_secrets (value) values (${secret})`).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(Error);
    expect(String((error as Error).message)).toContain(secret); // what used to reach the log
    logger.error({ err: error }, "statement failed");
    await new Promise((resolve) => setTimeout(resolve, 20));

    const [line] = text
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { err: Record<string, unknown> });
    expect(line?.err.message).toContain("insert into logged_secrets (value) values ($1)");
    expect(line?.err.code).toBe("23505");
    expect(text).not.toContain(secret);
  });
});

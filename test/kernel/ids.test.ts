import { describe, expect, it } from "vitest";
import { idKind, newId } from "../../src/kernel/ids.ts";

describe("ids", () => {
  it("are prefixed, sort in creation order and never repeat their random part", async () => {
    const ids: string[] = [];
    // Across milliseconds and several refills of the random pool (409 ids' worth each).
    for (let i = 0; i < 3_000; i++) {
      ids.push(newId("resource"));
      if (i % 500 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect(ids.every((id) => /^res_[0-9a-hjkmnp-tv-z]{26}$/.test(id))).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids.map((id) => id.slice(-16))).size).toBe(ids.length); // the 80 random bits
    expect(idKind(ids[0] as string)).toBe("resource");
  });
});

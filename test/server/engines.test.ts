import { readFileSync } from "node:fs";
import semver from "semver";
import { describe, expect, it } from "vitest";

// `npm install` warns (EBADENGINE) for every installed package whose `engines.node` excludes the
// running Node.js. The README promises the oldest Node.js in package.json's `engines`; every
// package the lockfile installs, development tools included, must accept it.
const root = new URL("../../", import.meta.url);
const manifest = JSON.parse(readFileSync(new URL("package.json", root), "utf8"));
const lock = JSON.parse(readFileSync(new URL("package-lock.json", root), "utf8"));

describe("supported Node.js versions", () => {
  it("every locked package accepts the oldest Node.js the README promises", () => {
    const oldest = semver.minVersion(manifest.engines.node)?.version;
    expect(oldest).toBeTruthy();
    const refusing = Object.entries(
      lock.packages as Record<string, { version?: string; engines?: { node?: string } }>,
    )
      .filter(([path, entry]) => path !== "" && typeof entry.engines?.node === "string")
      .filter(([, entry]) => !semver.satisfies(oldest as string, entry.engines?.node as string))
      .map(
        ([path, entry]) =>
          `${path.replace(/^.*node_modules\//, "")}@${entry.version} wants node ${entry.engines?.node}`,
      );
    expect(refusing).toEqual([]);
  });
});

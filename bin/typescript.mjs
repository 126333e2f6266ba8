// Module hooks of the `plugboard` command (registered by plugboard.mjs): Plugboard's .ts files are
// compiled by esbuild as they are imported, each on its own, with an inline source map.
//
// Not tsx's loader, which does the same with esbuild's `keepNames` on: that wraps every function
// and class a module makes in `__name(fn, "fn")`, at run time, each time it makes one. For files
// compiled one by one nothing is renamed, so V8 names them all the same without it; with it, the
// wrapping was ~4% of an email lookup's server CPU (profile of bench:peers' email read).
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { transform } from "esbuild";

/** The project's compiler options (esbuild reads those that change output, e.g. verbatimModuleSyntax). */
const tsconfigRaw = readFile(new URL("../tsconfig.json", import.meta.url), "utf8").then(JSON.parse);

export async function load(url, context, nextLoad) {
  if (!url.startsWith("file:") || !url.endsWith(".ts")) return nextLoad(url, context);
  const path = fileURLToPath(url);
  const { code } = await transform(await readFile(path, "utf8"), {
    loader: "ts",
    format: "esm",
    target: `node${process.versions.node}`,
    sourcemap: "inline",
    // The map points at the file on disk; its text again in every module would only take memory.
    sourcesContent: false,
    sourcefile: path,
    tsconfigRaw: await tsconfigRaw,
  });
  return { format: "module", source: code, shortCircuit: true };
}

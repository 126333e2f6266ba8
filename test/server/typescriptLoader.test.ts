import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const hooks = new URL("../../bin/typescript.mjs", import.meta.url).href;
type Load = (
  url: string,
  context: { conditions: string[] },
  next: (url: string) => Promise<unknown>,
) => Promise<{ format?: string; source: string }>;
const { load } = (await import(hooks)) as { load: Load };
const dir = mkdtempSync(path.join(tmpdir(), "plugboard-loader-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const notLoaded = () => {
  throw new Error("a .ts file must not reach the next loader");
};

// The `plugboard` command's loader (bin/plugboard.mjs registers bin/typescript.mjs).
describe("the plugboard command's TypeScript loader", () => {
  it("compiles a module with no run-time naming of its functions (esbuild's keepNames)", async () => {
    const url = pathToFileURL(path.resolve("src/resources/query.ts")).href;
    const { format, source } = await load(url, { conditions: [] }, notLoaded);
    expect(format).toBe("module");
    // Asserted on booleans: a failure would print the whole module.
    expect(source.includes("async function paginate(")).toBe(true);
    expect(source.includes("__name")).toBe(false);
    expect(source.includes("//# sourceMappingURL=data:application/json;base64,")).toBe(true);
  });

  it("leaves other files to the next loader", async () => {
    const next = async (url: string) => ({ format: "module", source: `// ${url}`, shortCircuit: true });
    await expect(load("node:fs", { conditions: [] }, next)).resolves.toMatchObject({ source: "// node:fs" });
  });

  it("runs TypeScript as the command does: names as V8 gives them, stack traces at .ts lines", async () => {
    const fixture = path.join(dir, "fixture.ts");
    writeFileSync(
      fixture,
      [
        "type Named = { label: string };",
        "export function make(): Named & { inner: () => void } {",
        "  const inner = (): void => {",
        '    throw new Error("from the fixture");',
        "  };",
        "  return { label: inner.name, inner };",
        "}",
      ].join("\n"),
    );
    const script = `
      import { register } from "node:module";
      process.setSourceMapsEnabled(true);
      register(${JSON.stringify(hooks)});
      const { make } = await import(${JSON.stringify(pathToFileURL(fixture).href)});
      const made = make();
      let stack = "";
      try { made.inner(); } catch (error) { stack = error.stack; }
      console.log(JSON.stringify({ label: made.label, stack }));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script]);
    const { label, stack } = JSON.parse(stdout) as { label: string; stack: string };
    expect(label).toBe("inner");
    expect(stack).toContain(`${fixture}:4:11`);
  });
});

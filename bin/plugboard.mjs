#!/usr/bin/env -S node --max-semi-space-size=64
// The `plugboard` command. TypeScript is compiled as it is imported (typescript.mjs), so there is no
// build step to forget.
// --max-semi-space-size=64 (MiB, also in `npm start`): a list page allocates a lot of short-lived
// objects, and a larger young generation cut its GC share and CPU per request by ~15% (bench:resources).
import { register } from "node:module";

// graphql-js runs extra development-only checks on every value unless NODE_ENV is "production"
// (measured: ~3% of a list request's CPU); a server started through this command is a deployment.
process.env.NODE_ENV ??= "production";
// A fault's stack trace names the .ts file and line (the compiled code carries a source map).
process.setSourceMapsEnabled(true);
register("./typescript.mjs", import.meta.url);
await import("../src/server/cli.ts");

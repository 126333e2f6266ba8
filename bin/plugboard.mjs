#!/usr/bin/env node
// The `plugboard` command. TypeScript runs through tsx's loader, so there is no build step to forget.
import { register } from "tsx/esm/api";

// graphql-js runs extra development-only checks on every value unless NODE_ENV is "production"
// (measured: ~3% of a list request's CPU); a server started through this command is a deployment.
process.env.NODE_ENV ??= "production";
register();
await import("../src/server/cli.ts");

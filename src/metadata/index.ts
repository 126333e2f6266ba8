/** metadata's public module: what other domains use of field settings. */

export { writeProblem } from "./formSettings.ts";

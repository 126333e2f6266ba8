/** Every table, for drizzle-kit and the typed client. Each domain owns its own `tables.ts`. */
export * from "../auth/tables.ts";
export * from "../oauth/tables.ts";

/** Every table, for drizzle-kit and the typed client. Each domain owns its own `tables.ts`. */
export * from "../auth/tables.ts";
export * from "../files/tables.ts";
export * from "../ledger/tables.ts";
export * from "../limits/tables.ts";
export * from "../metadata/tables.ts";
export * from "../oauth/tables.ts";
export * from "../resources/tables.ts";
export * from "../webhooks/tables.ts";

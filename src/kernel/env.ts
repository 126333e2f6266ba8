import { z } from "zod";

/**
 * The one module that reads `process.env`. Every variable (the README's Configuration table) is
 * parsed and validated here, and a bad value fails start with a message naming each offending variable.
 */
/** "true"/"1" or "false"/"0"; unset or empty: `byDefault`. */
const booleanFlag = (byDefault: boolean) =>
  z
    .enum(["true", "false", "1", "0", ""])
    .default("")
    .transform((value) => (value === "" ? byDefault : value === "true" || value === "1"));

const port = z.coerce
  .number({ message: "must be a number" })
  .int("must be an integer")
  .min(0, "must be between 0 and 65535")
  .max(65535, "must be between 0 and 65535");

const postgresUrl = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return (url.protocol === "postgres:" || url.protocol === "postgresql:") && url.hostname !== "";
  } catch {
    return false;
  }
}, "must be a postgres:// URL with a host, e.g. postgres://user@127.0.0.1:5432/plugboard");

const retrySchedule = z
  .string()
  .regex(/^\s*\d+(\s*,\s*\d+)*\s*$/, "must be comma-separated whole seconds, e.g. 5,300,1800")
  .transform((value) => value.split(",").map((part) => Number(part.trim())));

const count = z.coerce
  .number({ message: "must be a number" })
  .int("must be a whole number")
  .min(0, "must be 0 or more");

const envSchema = z.object({
  PORT: port.default(4000),
  HOST: z.string().min(1).default("127.0.0.1"),
  DATABASE_URL: postgresUrl.optional(),
  PLUGBOARD_DATA_DIR: z.string().min(1).default("./.plugboard"),
  PUBLIC_URL: z.url({ message: "must be an absolute http(s) URL" }).optional(),
  PLUGBOARD_ADMIN_EMAIL: z.email({ message: "must be an email address" }).optional(),
  PLUGBOARD_ADMIN_PASSWORD: z.string().min(8, "must be at least 8 characters").optional(),
  PLUGBOARD_ADMIN_TOKEN: z.string().min(32, "must be at least 32 characters").optional(),
  PLUGBOARD_WEBHOOK_ALLOW_PRIVATE: booleanFlag(false),
  PLUGBOARD_WEBHOOK_RETRY_SCHEDULE: retrySchedule.default([5, 300, 1800, 7200, 18000, 36000, 36000]),
  /** The whole-exchange deadline of one webhook attempt (documented: 10 s); lowered only in tests. */
  PLUGBOARD_WEBHOOK_TIMEOUT_MS: z.coerce
    .number({ message: "must be a number of milliseconds" })
    .int("must be a whole number of milliseconds")
    .min(100, "must be at least 100")
    .default(10_000),
  PLUGBOARD_CHANGE_RETENTION_DAYS: z.coerce
    .number({ message: "must be a number of days" })
    .int("must be a whole number of days")
    .min(1, "must be at least 1 day")
    .default(30),
  /** Seconds a verified Basic email/password is trusted before argon2 runs again; 0 disables. */
  PLUGBOARD_PASSWORD_CACHE_SECONDS: z.coerce.number().int().min(0).max(3600).default(5),
  // Limits (README "Limits"): query shape and cost, rate limits, the login brake, resource caps.
  PLUGBOARD_MAX_QUERY_COST: count.min(1).default(200_000),
  PLUGBOARD_MAX_ANONYMOUS_QUERY_COST: count.min(1).optional(),
  PLUGBOARD_MAX_QUERY_DEPTH: count.min(1).default(10),
  PLUGBOARD_MAX_ALIASES: count.default(20),
  PLUGBOARD_MAX_ROOT_FIELDS: count.min(1).default(20),
  PLUGBOARD_MAX_DIRECTIVES: count.default(20),
  PLUGBOARD_MAX_TOKENS: count.min(100).default(20_000),
  /** Requests per minute per credential (and per address without one); 0 turns the limit off. */
  PLUGBOARD_RATE_LIMIT: count.default(3000),
  PLUGBOARD_RATE_LIMIT_ANONYMOUS: count.default(120),
  PLUGBOARD_LOGIN_MAX_FAILURES: count.min(1).default(10),
  PLUGBOARD_LOGIN_LOCK_SECONDS: count.min(1).default(30),
  PLUGBOARD_LOGIN_MAX_LOCK_SECONDS: count.min(1).default(900),
  PLUGBOARD_MAX_SUBSCRIPTIONS: count.min(1).default(50),
  PLUGBOARD_MAX_WEBHOOKS: count.min(1).default(100),
  /** The largest file accepted by an upload, in bytes (default 100 MB). */
  PLUGBOARD_FILE_MAX_BYTES: z.coerce
    .number({ message: "must be a number of bytes" })
    .int("must be a whole number of bytes")
    .min(1, "must be at least 1")
    .max(2 ** 31 - 1, "must be below 2 GiB")
    .default(100 * 1024 * 1024),
  /** Hours an upload may stay unattached to any FILE field before it is deleted. */
  PLUGBOARD_FILE_ORPHAN_HOURS: z.coerce
    .number({ message: "must be a number of hours" })
    .int("must be a whole number of hours")
    .min(1, "must be at least 1 hour")
    .default(24),
  /**
   * An S3-compatible bucket for file bytes (AWS S3, MinIO, R2, …); without it they are stored in
   * the database. Credentials fall back to the AWS SDK's usual variables.
   */
  PLUGBOARD_S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be a bucket name")
    .optional(),
  PLUGBOARD_S3_ENDPOINT: z.url({ protocol: /^https?$/, message: "must be an http(s) URL" }).optional(),
  PLUGBOARD_S3_REGION: z.string().min(1).optional(),
  PLUGBOARD_S3_PREFIX: z
    .string()
    .regex(/^[\w./-]*$/, "must be letters, digits, '.', '_', '-' or '/'")
    .default("files/"),
  AWS_ACCESS_KEY_ID: z.string().min(1).optional(),
  AWS_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  AWS_SESSION_TOKEN: z.string().min(1).optional(),
  AWS_REGION: z.string().min(1).optional(),
  /** Off: every read executes through the schema's resolvers (server/plugins/renderedReads.ts). */
  PLUGBOARD_RENDERED_READS: booleanFlag(true),
  PLUGBOARD_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type Env = z.output<typeof envSchema> & { publicUrl: string };

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parses an environment (default: `process.env`); throws `ConfigError` naming every bad variable. */
export function loadEnv(source: Record<string, string | undefined> = process.env): Env {
  // Empty strings mean "unset" for optional variables, as in most shells' `VAR= cmd`.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ""));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? "environment");
      // Secrets (and URLs that may embed a password) are named, never echoed.
      const shown = /TOKEN|PASSWORD|SECRET|DATABASE_URL/.test(name)
        ? ""
        : `=${JSON.stringify(source[name] ?? "")}`;
      return `  ${name}${shown}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const env = parsed.data;
  if (env.PLUGBOARD_S3_BUCKET && !(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY)) {
    throw new ConfigError(
      "Invalid configuration:\n  PLUGBOARD_S3_BUCKET is set: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are required too",
    );
  }
  const publicUrl = (env.PUBLIC_URL ?? `http://${env.HOST}:${env.PORT}`).replace(/\/+$/, "");
  return { ...env, publicUrl };
}

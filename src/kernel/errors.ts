import { GraphQLError } from "graphql";

/** The closed list of `extensions.code` values (docs/errors-and-limits.md). Anything else is masked. */
export const errorCodes = [
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "NOT_FOUND",
  "BAD_USER_INPUT",
  "CONFLICT",
  "IDEMPOTENCY_CONFLICT",
  "CURSOR_EXPIRED",
  "RATE_LIMITED",
  "PAYLOAD_TOO_LARGE",
  "INTERNAL_SERVER_ERROR",
] as const;
export type ErrorCode = (typeof errorCodes)[number];

/** An expected failure: its message is shown to the client, with its code and any extra fields. */
export class AppError extends GraphQLError {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(message, { extensions: { code, ...extensions } });
    this.code = code;
  }
}

export function isAppErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && (errorCodes as readonly string[]).includes(value);
}

export const REALM = 'Bearer realm="plugboard"';

export const fail = {
  /** HTTP 401 with `WWW-Authenticate`, so connector platforms know to refresh or re-authenticate. */
  unauthenticated(message: string, tokenGiven: boolean): AppError {
    const challenge = tokenGiven ? `${REALM}, error="invalid_token"` : REALM;
    return new AppError("UNAUTHENTICATED", message, {
      http: { status: 401, headers: { "WWW-Authenticate": challenge } },
    });
  },
  forbidden: (message: string) => new AppError("FORBIDDEN", message),
  notFound: (message: string) => new AppError("NOT_FOUND", message),
  badInput: (field: string, message: string, extra: Record<string, unknown> = {}) =>
    new AppError("BAD_USER_INPUT", message, { field, ...extra }),
  conflict: (message: string, extra: Record<string, unknown> = {}) =>
    new AppError("CONFLICT", message, extra),
  /** HTTP 429 with Retry-After: connector platforms back off and retry instead of dropping the connection. */
  rateLimited: (message: string, retryAfter: number, headers: Record<string, string> = {}) =>
    new AppError("RATE_LIMITED", message, {
      retryAfter,
      http: { status: 429, headers: { ...headers, "Retry-After": String(retryAfter) } },
    }),
  /** HTTP 400 before anything runs: the operation is over one of the limits of src/limits/cost.ts. */
  tooComplex: (message: string, cost: number, limit: number) =>
    new AppError("BAD_USER_INPUT", message, { field: "query", cost, limit, http: { status: 400 } }),
};

/**
 * The server's error codes (the closed list in docs/errors-and-limits.md), plus the client's own: `NETWORK_ERROR` when no
 * response arrived and `BAD_RESPONSE` when one arrived that was not GraphQL.
 */
export type PlugboardErrorCode =
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "BAD_USER_INPUT"
  | "CONFLICT"
  | "IDEMPOTENCY_CONFLICT"
  | "CURSOR_EXPIRED"
  | "RATE_LIMITED"
  | "PAYLOAD_TOO_LARGE"
  | "INTERNAL_SERVER_ERROR"
  | "NETWORK_ERROR"
  | "BAD_RESPONSE";

export interface GraphQLErrorBody {
  message: string;
  path?: readonly (string | number)[];
  extensions?: Record<string, unknown>;
}

/**
 * Every failure the client reports. Switch on `code` (a closed union) or use `instanceof` on the
 * subclasses below; `status` is the HTTP status (0 when no response arrived).
 */
export class PlugboardError extends Error {
  override name = "PlugboardError";
  constructor(
    message: string,
    readonly code: PlugboardErrorCode | undefined,
    readonly status: number,
    readonly extensions: Record<string, unknown> = {},
    /** Every error of the response; `message`/`code` describe the first. */
    readonly errors: readonly GraphQLErrorBody[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** No credential, or it is invalid, expired or revoked (HTTP 401). */
export class AuthenticationError extends PlugboardError {
  override name = "AuthenticationError";
}
/** The credential is valid but its role or scopes do not allow this. */
export class ForbiddenError extends PlugboardError {
  override name = "ForbiddenError";
}
/** Bad input; `field` names the offending field key or argument. */
export class ValidationError extends PlugboardError {
  override name = "ValidationError";
  get field(): string | undefined {
    return typeof this.extensions.field === "string" ? this.extensions.field : undefined;
  }
}
export class NotFoundError extends PlugboardError {
  override name = "NotFoundError";
}
/** A version mismatch or unique violation; `currentVersion` when the server says it. */
export class ConflictError extends PlugboardError {
  override name = "ConflictError";
  get currentVersion(): number | undefined {
    const v = this.extensions.currentVersion;
    return typeof v === "number" ? v : undefined;
  }
}
/** The cursor's changes are no longer retained: resume from `oldestCursor` (changes after it are complete). */
export class CursorExpiredError extends PlugboardError {
  override name = "CursorExpiredError";
  get oldestCursor(): string | undefined {
    const c = this.extensions.oldestCursor;
    return typeof c === "string" ? c : undefined;
  }
}
/** HTTP 429 (or 503) after the client's retries ran out; `retryAfterMs` from Retry-After. */
export class RateLimitError extends PlugboardError {
  override name = "RateLimitError";
  retryAfterMs: number | undefined;
}
/** The request never got a response (connection refused, reset, DNS, timeout). */
export class NetworkError extends PlugboardError {
  override name = "NetworkError";
}

const CLASSES: Partial<Record<PlugboardErrorCode, typeof PlugboardError>> = {
  UNAUTHENTICATED: AuthenticationError,
  FORBIDDEN: ForbiddenError,
  BAD_USER_INPUT: ValidationError,
  NOT_FOUND: NotFoundError,
  CONFLICT: ConflictError,
  IDEMPOTENCY_CONFLICT: ConflictError,
  CURSOR_EXPIRED: CursorExpiredError,
  RATE_LIMITED: RateLimitError,
  NETWORK_ERROR: NetworkError,
};

/** The typed error for a GraphQL error list (or an HTTP status without one). */
export function errorFrom(
  status: number,
  errors: readonly GraphQLErrorBody[],
  fallback: string,
): PlugboardError {
  const [first] = errors;
  const extensions = first?.extensions ?? {};
  let code = extensions.code as PlugboardErrorCode | undefined;
  if (!code && status === 401) code = "UNAUTHENTICATED";
  if (!code && status === 429) code = "RATE_LIMITED";
  const Class = (code && CLASSES[code]) || PlugboardError;
  return new Class(first?.message ?? fallback, code, status, extensions, errors);
}

/** Why `verifyWebhook` refused a request. */
export type WebhookVerificationReason =
  | "MISSING_HEADERS"
  | "TIMESTAMP_TOO_OLD"
  | "TIMESTAMP_IN_FUTURE"
  | "INVALID_SIGNATURE"
  | "INVALID_BODY";

/** Thrown by `verifyWebhook`: answer the request with 401 (or 400) and do not act on it. */
export class WebhookVerificationError extends Error {
  override name = "WebhookVerificationError";
  constructor(
    readonly reason: WebhookVerificationReason,
    message: string,
  ) {
    super(message);
  }
}

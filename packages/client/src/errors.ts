/**
 * The SDK's error family: the same `AirlockError` shape and `code` union as the `airlock`
 * library (`code` for machines, `hint` for people, `retryable`), defined here so the SDK needs
 * nothing from the service's package. {@link AirlockApiError} adds what the service answered.
 *
 * @example
 * import { isAirlockError } from "@airlock/client";
 * if (isAirlockError(err, "reauth_required")) showReconnectButton();
 */
export type AirlockErrorCode =
  /** A setting (environment variable, flag, config) is missing or malformed. The message names it. */
  | "config_invalid"
  /** External input (request body, query, path, flag value) failed validation. */
  | "invalid_input"
  /** Airtable rejected the client credentials (client id / secret / Basic auth). */
  | "invalid_client"
  /** A requested scope is unknown or not enabled on the integration. */
  | "invalid_scope"
  /** The user declined, or the integration is not allowed to be authorized. */
  | "access_denied"
  /** The user consented with another Airtable account than the connect session's `expected_email`. */
  | "wrong_account"
  /** The OAuth `state` was unknown, expired, reused, or did not match this browser. */
  | "invalid_state"
  /** An authorization code was rejected (expired, reused, verifier or redirect_uri mismatch). */
  | "invalid_grant"
  /** Any other error Airtable's authorization or token endpoint reported. */
  | "authorization_failed"
  /** The grant is dead (refresh token rejected, expired or interrupted): the user must authorize again. */
  | "reauth_required"
  /** Network error, timeout, 5xx, 409 or 429 from Airtable: safe to retry later. */
  | "transient"
  /** Airtable's Web API answered 429 and the bounded wait ran out; or too many failed sign-ins/keys at Airlock. */
  | "rate_limited"
  /** Airtable's Web API answered with an error (401/403/404/422/...). */
  | "api_error"
  /** A request to Airlock's own API lacked valid credentials. */
  | "unauthorized"
  /** The thing asked for does not exist. */
  | "not_found"
  /** The request conflicts with the current state. */
  | "conflict"
  /** A request body exceeded the configured limit. */
  | "payload_too_large"
  /** A request body came with a Content-Type the endpoint does not take (it takes `application/json`). */
  | "unsupported_media_type"
  /** The CLI has no stored credentials for this profile. */
  | "not_logged_in"
  /** A local port needed for the login callback is taken. */
  | "port_in_use"
  /** Waiting for the browser or an upstream answer took too long. */
  | "timeout"
  /** The user interrupted the operation. */
  | "cancelled"
  /** A bug: something that should not happen did. */
  | "internal";

export interface AirlockErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Overrides the default retryability of the code (only `transient`, `rate_limited` and `timeout` default to true). */
  retryable?: boolean;
  /** Extra machine-readable detail; never put a secret here. */
  details?: Record<string, unknown>;
}

const RETRYABLE_BY_DEFAULT: ReadonlySet<AirlockErrorCode> = new Set(["transient", "rate_limited", "timeout"]);

/**
 * An error with a machine `code` and a human `hint` that says what to do next.
 *
 * @example
 * throw new AirlockError("invalid_input", "identifier is empty.", { hint: "Pass your id for the end user." });
 */
export class AirlockError extends Error {
  override readonly name = "AirlockError";
  readonly code: AirlockErrorCode;
  readonly hint: string;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: AirlockErrorCode, message: string, options: AirlockErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint ?? "";
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(code);
    this.details = options.details;
  }

  /** The JSON shape used on the wire: `{code, message, hint}` (plus details when present). */
  toJSON(): { code: AirlockErrorCode; message: string; hint: string; details?: Record<string, unknown> } {
    return {
      code: this.code,
      message: this.message,
      hint: this.hint,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

/**
 * @example
 * if (isAirlockError(err, "reauth_required")) showReconnectButton();
 */
export function isAirlockError(value: unknown, code?: AirlockErrorCode): value is AirlockError {
  return value instanceof AirlockError && (code === undefined || value.code === code);
}

/**
 * An error answer from the Airlock service: the HTTP `status`, the machine `code` and the
 * human `hint` the service sent. It is an {@link AirlockError}, so `isAirlockError(err,
 * "reauth_required")` works on it too.
 *
 * @example
 * try {
 *   await airlock.getAccessToken("user_123");
 * } catch (err) {
 *   if (err instanceof AirlockApiError && err.isReauthRequired) sendReconnectEmail("user_123");
 *   else throw err;
 * }
 */
export class AirlockApiError extends AirlockError {
  /** The HTTP status the service answered with (401, 404, 409…). */
  readonly status: number;
  /** The service's request id (`x-request-id`), for matching a failure to its log line. */
  readonly requestId: string | null;

  constructor(
    status: number,
    code: AirlockErrorCode,
    message: string,
    options: { hint?: string; requestId?: string | null; details?: Record<string, unknown> } = {},
  ) {
    super(code, message, {
      ...(options.hint === undefined ? {} : { hint: options.hint }),
      ...(options.details === undefined ? {} : { details: options.details }),
      // The service knows best; 5xx and 429 are worth another try even when the code says otherwise.
      retryable: status === 429 || status >= 500 || code === "transient" || code === "rate_limited",
    });
    this.status = status;
    this.requestId = options.requestId ?? null;
  }

  /** True when the user must authorize again: send them a new connect link (`createConnectSession`). */
  get isReauthRequired(): boolean {
    return this.code === "reauth_required";
  }
}

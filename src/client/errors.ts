import { AirlockError, type AirlockErrorCode } from "../errors.js";

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

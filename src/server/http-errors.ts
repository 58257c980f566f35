/**
 * The one place that turns errors into HTTP answers: every AirlockError code has one status, and
 * every error body is `{error: {code, message, hint}}`.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { AirlockError, type AirlockErrorCode } from "../shared/errors.js";

const STATUS_BY_CODE: Record<AirlockErrorCode, ContentfulStatusCode> = {
  config_invalid: 500,
  invalid_input: 400,
  invalid_client: 502,
  invalid_scope: 400,
  access_denied: 403,
  wrong_account: 403,
  invalid_state: 400,
  invalid_grant: 400,
  authorization_failed: 502,
  reauth_required: 409,
  transient: 503,
  rate_limited: 429,
  api_error: 502,
  unauthorized: 401,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  not_logged_in: 401,
  port_in_use: 500,
  timeout: 504,
  cancelled: 503,
  internal: 500,
};

/**
 * The HTTP status for an error code.
 */
export function statusForCode(code: AirlockErrorCode): ContentfulStatusCode {
  return STATUS_BY_CODE[code];
}

/** The JSON error body every route answers with. */
export interface ErrorBody {
  error: { code: AirlockErrorCode; message: string; hint: string; details?: Record<string, unknown> };
}

/** The hint of every error about a request body's format. */
export const JSON_BODY_HINT = "Send a JSON object with `Content-Type: application/json`.";

/**
 * Hono's own refusals (a body limit, malformed JSON, the media-type gate of @hono/zod-openapi) as
 * AirlockErrors with the status Hono meant.
 */
export function fromHttpException(error: HTTPException): AirlockError {
  if (error.status === 413) {
    return new AirlockError("payload_too_large", "The request body is too large.", {
      hint: "Send a smaller body.",
    });
  }
  if (error.status === 415) {
    return new AirlockError(
      "unsupported_media_type",
      "This endpoint takes a JSON body, and the request's Content-Type is not application/json.",
      { hint: JSON_BODY_HINT },
    );
  }
  if (error.status === 400) {
    return new AirlockError("invalid_input", "The request body is not valid JSON.", { hint: JSON_BODY_HINT });
  }
  return new AirlockError(
    error.status >= 500 ? "internal" : "invalid_input",
    error.message || "Request refused.",
    { hint: "Check the request against GET /openapi.json." },
  );
}

/**
 * Any thrown value as an AirlockError: Hono's HTTPExceptions keep their meaning, unknown errors
 * become `internal` with a generic message, so nothing from a stack or a library message (which
 * might quote a secret) reaches the client.
 */
export function toAirlockError(error: unknown): AirlockError {
  if (error instanceof AirlockError) return error;
  if (error instanceof HTTPException) return fromHttpException(error);
  return new AirlockError("internal", "Something went wrong inside Airlock.", {
    hint: "Retry; if it keeps happening, check the service logs for this request id.",
    cause: error,
  });
}

/**
 * Answers with the JSON error body and the status for its code (plus `Retry-After` for retryable
 * errors that carry `details.retry_after_seconds`).
 */
export function errorResponse(c: Context, error: unknown): Response {
  const err = toAirlockError(error);
  const retryAfter = err.details?.retry_after_seconds;
  if (typeof retryAfter === "number") c.header("Retry-After", String(Math.ceil(retryAfter)));
  c.header("Cache-Control", "no-store");
  const body: ErrorBody = { error: err.toJSON() };
  return c.json(body, statusForCode(err.code));
}

/**
 * What an unauthenticated visitor (an end user on a connect page, the OAuth callback) is told: a
 * store failure's hint names the database's location and is meant for the operator, so it is
 * replaced by a neutral one; everything else is already written for the person in front of it.
 */
export function forEndUser(error: AirlockError): AirlockError {
  if (typeof error.details?.store_error !== "string") return error;
  const retryAfter = error.details.retry_after_seconds;
  return new AirlockError("transient", "Airlock cannot save or read connections right now.", {
    hint: "Nothing is wrong on your side: try again in a few minutes (ask the app for a new link if this one was used).",
    ...(typeof retryAfter === "number" ? { details: { retry_after_seconds: retryAfter } } : {}),
  });
}

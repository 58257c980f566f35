/**
 * Turning token-endpoint failures into AirlockErrors that say what happened and what to do.
 * Nothing from the request (code, verifier, tokens, secret) and no raw response body ever
 * reaches a message, a hint or `details`: only the status and Airtable's error code/description.
 */
import * as oauth from "oauth4webapi";
import { AirlockError, type AirlockErrorCode, errorCode } from "../shared/errors.js";

/** Which grant failed, and whether the client authenticates with a secret (it changes the hints). */
export interface TokenErrorContext {
  grant: "authorization_code" | "refresh_token";
  hasSecret: boolean;
}

/** What an error response from the token endpoint said. */
export interface TokenErrorResponse {
  status: number;
  /** The OAuth `error` code, when the body had one. */
  error?: string | undefined;
  error_description?: string | undefined;
}

/**
 * Statuses that mean "Airtable is busy or broken right now", never "your request is wrong".
 *
 * @example
 * isTransientStatus(409); // true: a refresh raced another one
 * isTransientStatus(400); // false
 */
export function isTransientStatus(status: number): boolean {
  return status >= 500 || status === 409 || status === 429 || status === 408;
}

function clip(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length > 300 ? `${oneLine.slice(0, 300)}…` : oneLine;
}

const INVALID_GRANT_CAUSES =
  "Common causes: the code was already used (codes are single-use, even when the exchange failed), it is older than 10 minutes, the code_verifier does not belong to this authorization, or the redirect_uri/client_id differ from the authorize request.";

/**
 * Maps a token-endpoint error response to an AirlockError: on refresh `invalid_grant` →
 * `reauth_required`; on code exchange `invalid_grant` → `invalid_grant`; `invalid_client`
 * names AIRTABLE_CLIENT_ID / AIRTABLE_CLIENT_SECRET; 5xx/409/429 → `transient`.
 *
 * @example
 * throw tokenEndpointError({ status: 400, error: "invalid_grant" }, { grant: "refresh_token", hasSecret: false });
 * // AirlockError { code: "reauth_required", hint: "The user must authorize again …" }
 */
export function tokenEndpointError(response: TokenErrorResponse, context: TokenErrorContext): AirlockError {
  const { status } = response;
  const description = clip(response.error_description);
  const said = `${response.error ?? `HTTP ${status}`}${description ? ` (${description})` : ""}`;
  const details = { status, error: response.error ?? null, grant: context.grant };
  const make = (code: AirlockErrorCode, message: string, hint: string) =>
    new AirlockError(code, message, { hint, details });
  const action = context.grant === "refresh_token" ? "refresh" : "code exchange";

  if (isTransientStatus(status)) {
    const why =
      status === 409
        ? "a conflict: this token was refreshed moments ago (Airtable answers 409 to near-simultaneous refreshes)"
        : status === 429
          ? "too many requests"
          : "a server error";
    return make(
      "transient",
      `Airtable's token endpoint answered HTTP ${status} to the ${action}: ${why}.`,
      context.grant === "refresh_token"
        ? "Retry after a short back-off; keep the stored tokens (a 409 usually means another process just refreshed, so re-read them first)."
        : "Retry shortly. If the code was consumed, start the authorization again.",
    );
  }
  switch (response.error) {
    case "invalid_grant":
      return context.grant === "refresh_token"
        ? make(
            "reauth_required",
            `Airtable rejected the refresh token: ${said}. The authorization is gone (token rotated elsewhere, expired after 60 days unused, or revoked by the user).`,
            "The user must authorize again (a new consent); retrying the same refresh token will keep failing.",
          )
        : make(
            "invalid_grant",
            `Airtable rejected the authorization code: ${said}.`,
            `${INVALID_GRANT_CAUSES} Start the authorization again.`,
          );
    case "invalid_client":
      return make(
        "invalid_client",
        `Airtable rejected the client credentials: ${said}.`,
        context.hasSecret
          ? "Check AIRTABLE_CLIENT_ID and AIRTABLE_CLIENT_SECRET: both must belong to the same integration (regenerating the secret invalidates the old one). If the integration has no secret, unset AIRTABLE_CLIENT_SECRET."
          : "Check AIRTABLE_CLIENT_ID. If the integration has a client secret, set AIRTABLE_CLIENT_SECRET: Airtable requires HTTP Basic authentication whenever a secret exists.",
      );
    case "invalid_scope":
      return make(
        "invalid_scope",
        `Airtable rejected the requested scopes: ${said}.`,
        "Request only scopes enabled on the integration (see its page at airtable.com/create/oauth) and, on refresh, only a subset of the granted ones. Check AIRTABLE_SCOPES.",
      );
    case "unsupported_grant_type":
    case "invalid_request":
      return make(
        "authorization_failed",
        `Airtable refused the ${action} request as malformed: ${said}.`,
        "Check AIRTABLE_OAUTH_URL points at Airtable (default https://airtable.com) and AIRTABLE_REDIRECT_URI matches the authorize request. If it persists, it is a bug in Airlock: please report it.",
      );
    default:
      return make(
        status === 401 ? "invalid_client" : "authorization_failed",
        `Airtable's token endpoint refused the ${action}: ${said}.`,
        status === 401
          ? "Check AIRTABLE_CLIENT_ID and AIRTABLE_CLIENT_SECRET."
          : status === 404 || status === 405
            ? "This URL is not Airtable's token endpoint: check AIRTABLE_OAUTH_URL (default https://airtable.com). Run `airlock doctor`."
            : "Run `airlock doctor` to check the configuration.",
      );
  }
}

/**
 * Maps anything thrown while calling the token endpoint (fetch failures, timeouts, and
 * oauth4webapi's errors) to an AirlockError. oauth4webapi's own errors are never attached as
 * `cause`: they can carry the response body, i.e. tokens.
 *
 * @example
 * try { … } catch (err) { throw classifyTokenFailure(err, { grant: "refresh_token", hasSecret: true }); }
 */
export function classifyTokenFailure(err: unknown, context: TokenErrorContext): AirlockError {
  if (err instanceof AirlockError) return err;
  const action = context.grant === "refresh_token" ? "refresh" : "code exchange";
  if (err instanceof oauth.ResponseBodyError) {
    return tokenEndpointError(
      { status: err.status, error: err.error, error_description: err.error_description },
      context,
    );
  }
  if (err instanceof oauth.WWWAuthenticateChallengeError) {
    return tokenEndpointError(
      { status: err.status, error: err.status === 401 ? "invalid_client" : undefined },
      context,
    );
  }
  if (err instanceof oauth.OperationProcessingError || err instanceof oauth.UnsupportedOperationError) {
    return new AirlockError(
      "authorization_failed",
      `Airtable's token endpoint sent a response Airlock cannot use for the ${action} (${err.message}).`,
      {
        hint: "Check AIRTABLE_OAUTH_URL points at Airtable's OAuth server (default https://airtable.com); run `airlock doctor`.",
        details: { grant: context.grant, reason: err.code ?? null },
      },
    );
  }
  if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) {
    return new AirlockError("transient", `The ${action} request to Airtable timed out.`, {
      hint: "Retry later; check the network if it keeps happening.",
      details: { grant: context.grant, reason: "timeout" },
    });
  }
  // oauth4webapi throws TypeErrors with an ERR_INVALID_ARG_* code for bad arguments: a bug, not the network.
  if (err instanceof TypeError && !errorCode(err)?.startsWith("ERR_INVALID_ARG")) {
    // fetch reports every network failure as TypeError("fetch failed") with the real reason in `cause`.
    const code = errorCode(err.cause);
    return new AirlockError(
      "transient",
      `The ${action} request could not reach Airtable${code ? ` (${code})` : ""}.`,
      {
        hint: "Check the network connection and AIRTABLE_OAUTH_URL, then retry.",
        cause: err,
        details: { grant: context.grant, reason: code ?? "network" },
      },
    );
  }
  return new AirlockError("internal", `Unexpected failure during the ${action}.`, {
    hint: "This is a bug in Airlock; please report it with the log.",
    details: { grant: context.grant },
  });
}

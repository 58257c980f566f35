/**
 * Talking to Airtable about a connection's webhooks: an AirtableApi on the connection's token (a
 * 401 forces one refresh fenced on the rejected token, as the proxy does), and what an upstream
 * failure means for the webhook.
 */
import { AirtableApi } from "../../airtable/api.js";
import { AirlockError, isAirlockError } from "../../shared/errors.js";
import type { ServiceContext } from "../context.js";

/** The Web API as the connection `identifier`. */
export function airtableApiFor(
  ctx: Pick<ServiceContext, "config" | "tokens">,
  identifier: string,
): AirtableApi {
  let last: string | undefined;
  return new AirtableApi({
    apiUrl: ctx.config.airtable.apiUrl,
    // The keeper runs in the background: wait out a short rate limit, never a long one.
    maxRateLimitWaitMs: 10_000,
    accessToken: async (options) => {
      const token = await ctx.tokens.getAccessToken(
        identifier,
        options?.forceRefresh ? { force: true, rejectedAccessToken: last } : {},
      );
      last = token.accessToken;
      return token.accessToken;
    },
  });
}

/** What a failed call about a webhook means. */
export type UpstreamVerdict =
  /** Airtable no longer has the webhook. */
  | { kind: "lost"; status: "expired" | "deleted_upstream" }
  /** Try again later (network, 5xx, 429, a token refresh that failed for now, no active connection). */
  | { kind: "retry"; error: string };

/**
 * Classifies a failure: Airtable's 404 means the webhook is gone; a 422 on a refresh means it
 * expired (Airtable refreshes only active webhooks); everything else is retried with a backoff.
 */
export function judgeFailure(error: unknown, during: "fetch" | "refresh"): UpstreamVerdict {
  if (isAirlockError(error, "api_error")) {
    const status = error.details?.status;
    if (status === 404) return { kind: "lost", status: "deleted_upstream" };
    if (status === 422 && during === "refresh") return { kind: "lost", status: "expired" };
  }
  return { kind: "retry", error: describe(error) };
}

/** A short, secret-free description for `last_error` and logs. */
export function describe(error: unknown): string {
  if (error instanceof AirlockError) {
    const type = error.details?.type;
    return `${error.code}${typeof type === "string" ? ` ${type}` : ""}: ${error.message}`;
  }
  return error instanceof Error ? error.name : "unknown error";
}

/**
 * Airtable's refusal of a creation as the caller's error: a 4xx names what Airtable said, so the
 * app can fix its specification, base or scopes; anything else passes through.
 */
export function creationError(error: unknown, baseId: string): unknown {
  if (!isAirlockError(error, "api_error")) return error;
  const status = error.details?.status;
  const type = typeof error.details?.type === "string" ? error.details.type : null;
  const details = { upstream_status: status, upstream_type: type, base_id: baseId };
  if (status === 403 || status === 404) {
    return new AirlockError("access_denied", `Airtable refused to create a webhook on ${baseId}.`, {
      hint: "The connection needs the webhook:manage scope (and data.records:read or schema.bases:read for the dataTypes watched), the base must have been granted on consent, and the user must be a creator of the base.",
      details,
      cause: error,
    });
  }
  if (typeof status === "number" && status >= 400 && status < 500 && status !== 429) {
    return new AirlockError("invalid_input", `Airtable refused the webhook: ${error.message}`, {
      hint: "Check the specification against Airtable's webhooks specification (options.filters.dataTypes is required), and at most 2 webhooks per base for one integration.",
      details,
      cause: error,
    });
  }
  return error;
}

/**
 * Whether a failed creation may have created the webhook anyway: no answer (a timeout, a reset)
 * or a 5xx. A refusal (4xx, 429) or a failure before the request (no token) created nothing.
 */
export function mayHaveCreated(error: unknown): boolean {
  if (isAirlockError(error, "timeout")) return true;
  if (isAirlockError(error, "transient"))
    return error.details?.reason !== undefined || error.details?.status !== undefined;
  if (isAirlockError(error, "api_error")) {
    const status = error.details?.status;
    return typeof status !== "number" || status >= 500;
  }
  return false;
}

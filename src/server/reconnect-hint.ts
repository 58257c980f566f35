/**
 * What to tell a caller whose connection needs the end user to authorize again: the service's own
 * remedy (a new connect link, which reconnects the same identifier in place).
 */
import { AirlockError, isAirlockError } from "../shared/errors.js";

/**
 * The hint for a connection that needs its user to authorize again: how to make a new link.
 *
 * @example
 * reconnectHint("user_123");
 */
export function reconnectHint(identifier: string): string {
  return `Ask the user to reconnect: POST /v1/connect-sessions {"identifier": "${identifier}"} and send them the returned url (the connection is reused in place).`;
}

/**
 * Adds the service's reconnect hint to `reauth_required` errors; passes everything else through.
 *
 * @example
 * throw withReconnectHint(err, identifier);
 */
export function withReconnectHint(error: unknown, identifier: string): unknown {
  if (!isAirlockError(error, "reauth_required")) return error;
  return new AirlockError("reauth_required", error.message, {
    hint: reconnectHint(identifier),
    details: { identifier, ...(error.details ?? {}) },
    cause: error,
  });
}

/**
 * What to tell a caller whose connection needs its end user to authorize (again): the service's own
 * remedy, a connect link, which connects the identifier or reconnects it in place. The token layer's
 * hints are neutral (it serves the CLI too); the service adds this one.
 */
import { AirlockError, isAirlockError } from "../shared/errors.js";

/**
 * The hint for a connection that needs its user to authorize again: how to make a new link.
 */
export function reconnectHint(identifier: string): string {
  return `Ask the user to reconnect: POST /v1/connect-sessions {"identifier": "${identifier}"} and send them the returned url (the connection is reused in place).`;
}

function connectHint(identifier: string): string {
  return `Connect it first: POST /v1/connect-sessions {"identifier": "${identifier}"} and send the user the returned url.`;
}

/**
 * Gives `reauth_required` and `not_found` errors from the token manager the service's hint (a
 * connect link); passes everything else through.
 */
export function withReconnectHint(error: unknown, identifier: string): unknown {
  const hint = isAirlockError(error, "reauth_required")
    ? reconnectHint(identifier)
    : isAirlockError(error, "not_found")
      ? connectHint(identifier)
      : undefined;
  if (hint === undefined || !isAirlockError(error)) return error;
  return new AirlockError(error.code, error.message, {
    hint,
    details: { identifier, ...(error.details ?? {}) },
    cause: error,
  });
}

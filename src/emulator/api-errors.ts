/** Airtable's Web API error bodies [API]: `{error: {type, message}}`, or `{error: "NOT_FOUND"}`. */
export type ApiErrorBody = { error: { type: string; message: string } } | { error: "NOT_FOUND" };

export const AUTHENTICATION_REQUIRED: ApiErrorBody = {
  error: { type: "AUTHENTICATION_REQUIRED", message: "Authentication required" },
};

export const INVALID_PERMISSIONS: ApiErrorBody = {
  error: {
    type: "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND",
    message:
      "Invalid permissions, or the requested model was not found. Check that both your user and your token have the required permissions, and that the model names and/or ids are correct.",
  },
};

export const NOT_FOUND: ApiErrorBody = { error: "NOT_FOUND" };

export const RATE_LIMIT_REACHED: ApiErrorBody = {
  error: { type: "RATE_LIMIT_REACHED", message: "Rate limit exceeded. Please try again later" },
};

/**
 * A 422 body naming what was wrong with the request.
 */
export function invalidRequest(message: string): ApiErrorBody {
  return { error: { type: "INVALID_REQUEST_UNKNOWN", message } };
}

/**
 * The body Airtable sends with a given error status (used for injected faults).
 */
export function apiErrorFor(status: number): ApiErrorBody {
  switch (status) {
    case 401:
      return AUTHENTICATION_REQUIRED;
    case 403:
      return INVALID_PERMISSIONS;
    case 404:
      return NOT_FOUND;
    case 422:
      return invalidRequest("Invalid request");
    case 429:
      return RATE_LIMIT_REACHED;
    case 502:
    case 503:
    case 504:
      return {
        error: { type: "RETRIABLE_ERROR", message: "The server is temporarily unavailable. Please retry." },
      };
    default:
      return status >= 500
        ? { error: { type: "SERVER_ERROR", message: "Try again. If the problem persists, contact support." } }
        : invalidRequest("Invalid request");
  }
}

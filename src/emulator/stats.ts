/** Counters the control API reports at `GET /__emulator/stats`. */
export interface EmulatorStats {
  /** Authorization codes issued (consent allowed, or auto-approved). */
  authorizations: number;
  /** Successful authorization_code exchanges. */
  code_exchanges: number;
  /** Successful refresh_token exchanges. */
  refreshes: number;
  /** Every `invalid_grant` answer. */
  invalid_grants: number;
  /** Every `invalid_client` answer. */
  invalid_clients: number;
  /** Every request to /v0. */
  api_requests: number;
  /** Every 429 the per-base rate limit answered. */
  rate_limited: number;
}

/**
 * A zeroed stats record.
 */
export function emptyStats(): EmulatorStats {
  return {
    authorizations: 0,
    code_exchanges: 0,
    refreshes: 0,
    invalid_grants: 0,
    invalid_clients: 0,
    api_requests: 0,
    rate_limited: 0,
  };
}

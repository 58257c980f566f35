/**
 * The tokens of a stored connection for store-level tests: distinctive, secret-looking values
 * (so at-rest checks can search for them) and expiries relative to the test's clock.
 */
import type { NewConnectionTokens } from "../../src/store/types.js";

/**
 * @example
 * await store.upsertConnection(connectionTokens("u1", { now: T0 }), T0, created);
 * connectionTokens("u1", { n: 2 }); // the rotated set: different access and refresh tokens
 */
export function connectionTokens(
  identifier: string,
  options: { now?: Date; n?: number; padding?: number; scopes?: string[] } = {},
): NewConnectionTokens {
  const now = (options.now ?? new Date()).getTime();
  const n = options.n ?? 1;
  const padding = options.padding ?? 24;
  return {
    identifier,
    scopes: options.scopes ?? ["data.records:read"],
    airtableUserId: "usrAAAAAAAAAAAAAA",
    email: `${identifier}@example.com`,
    accessToken: `access-secret-${identifier}-${n}-${"x".repeat(padding)}`,
    refreshToken: `refresh-secret-${identifier}-${n}-${"y".repeat(padding)}`,
    accessTokenExpiresAt: new Date(now + 3_600_000),
    refreshTokenExpiresAt: new Date(now + 60 * 86_400_000),
  };
}

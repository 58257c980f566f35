/** A complete CLI credentials record (one profile file's contents) for tests. */
import type { StoredCredentials } from "../../src/cli/credentials-file.js";

const DAY_MS = 86_400_000;

/**
 * Credentials of the "default" profile for a public client, obtained at `now`: the access token
 * expires `accessExpiresInMs` later, the refresh token in 60 days. `overrides` replace any field.
 *
 * @example
 * const expired = storedCredentials({ now: new Date(), accessExpiresInMs: -1 });
 * await store.write("default", expired);
 */
export function storedCredentials(
  at: { now: Date; accessExpiresInMs: number },
  overrides: Partial<StoredCredentials> = {},
): StoredCredentials {
  const now = at.now.getTime();
  return {
    version: 1,
    profile: "default",
    clientId: "client-1",
    usesClientSecret: false,
    redirectUri: "http://localhost:8085/callback",
    oauthUrl: "https://airtable.com",
    apiUrl: "https://api.airtable.com",
    scopes: ["data.records:read"],
    accessToken: "access-0",
    refreshToken: "refresh-0",
    tokenType: "Bearer",
    accessTokenExpiresAt: new Date(now + at.accessExpiresInMs).toISOString(),
    refreshTokenExpiresAt: new Date(now + 60 * DAY_MS).toISOString(),
    obtainedAt: new Date(now).toISOString(),
    userId: "usrAAAAAAAAAAAAAA",
    email: null,
    createdAt: new Date(now).toISOString(),
    updatedAt: new Date(now).toISOString(),
    reauthReason: null,
    ...overrides,
  };
}

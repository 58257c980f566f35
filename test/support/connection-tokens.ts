/**
 * Stored connections for tests: `connectionTokens`, distinctive, secret-looking tokens for
 * store-level tests (so at-rest checks can search for them) with expiries relative to the test's
 * clock; `seedConnection`, the one way a test stores a connection directly (a real grant from the
 * emulator, or tokens of its own).
 */
import { loginAutoApproved } from "../../src/emulator/testing.js";
import type { NewConnectionTokens, Store } from "../../src/store/types.js";

/** The scopes the test integrations ask for (and seeded connections hold). */
export const SCOPES = ["data.records:read", "schema.bases:read"];

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

/**
 * Stores a connection directly. `from`: the emulator's URL (a real grant, auto-approved, so the
 * emulator accepts the tokens) or the tokens to store as they are. `accessTtlMs` sets the stored
 * expiry (default 1 hour; ≤ 0: already expired, so the next getAccessToken must refresh).
 *
 * @example
 * await seedConnection(store, emulator.url, "u1", { now: clock.now(), accessTtlMs: -1 });
 * await seedConnection(store, { accessToken: "tok_live", refreshToken: "ref_1" }, "u2", { now });
 */
export async function seedConnection(
  store: Store,
  from: string | { accessToken: string; refreshToken: string },
  identifier: string,
  options: { now: Date; accessTtlMs?: number; refreshTtlMs?: number; airtableUserId?: string | null },
): Promise<{ accessToken: string; refreshToken: string }> {
  const grant =
    typeof from === "string"
      ? await loginAutoApproved(from, SCOPES.join(" ")).then((issued) => ({
          accessToken: issued.access_token,
          refreshToken: issued.refresh_token,
          scopes: issued.scope.split(" "),
        }))
      : { ...from, scopes: SCOPES };
  const at = options.now.getTime();
  await store.upsertConnection(
    {
      identifier,
      scopes: grant.scopes,
      airtableUserId: options.airtableUserId ?? null,
      email: null,
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
      accessTokenExpiresAt: new Date(at + (options.accessTtlMs ?? 3600_000)),
      refreshTokenExpiresAt: new Date(at + (options.refreshTtlMs ?? 60 * 86_400_000)),
    },
    options.now,
    (created) => ({ type: created ? "connection.created" : "connection.recovered" }),
  );
  return { accessToken: grant.accessToken, refreshToken: grant.refreshToken };
}

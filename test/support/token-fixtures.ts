/**
 * Helpers for TokenManager tests: a settable clock, the real emulator's control API, and a
 * connection seeded from a real authorization against the emulator.
 */
import { AirtableOAuth } from "../../src/airtable/oauth.js";
import { loginAutoApproved } from "../../src/emulator/testing.js";
import type { Store } from "../../src/store/types.js";

export const SCOPES = ["data.records:read", "schema.bases:read"];
export const CLIENT_ID = "airlock-emulator-client";
export const REDIRECT_URI = "http://localhost:8085/callback";

/**
 * A clock tests move by hand; starts at the real time so the emulator and the store agree roughly.
 *
 * @example
 * const clock = new TestClock();
 * clock.advance(61 * 60_000);
 */
export class TestClock {
  #ms = Date.now();
  readonly now = (): Date => new Date(this.#ms);
  advance(ms: number): void {
    this.#ms += ms;
  }
}

/** The real OAuth client pointed at the emulator (a public client, as the emulator defaults to). */
export function emulatorOAuth(emulatorUrl: string, now?: () => Date): AirtableOAuth {
  return new AirtableOAuth(
    {
      clientId: CLIENT_ID,
      redirectUri: REDIRECT_URI,
      scopes: SCOPES,
      oauthUrl: emulatorUrl,
      apiUrl: emulatorUrl,
    },
    now ? { now, timeoutMs: 30_000 } : { timeoutMs: 30_000 },
  );
}

/**
 * Authorizes against the emulator and stores the connection; `accessTtlMs` sets the stored expiry
 * (≤ 0: already expired, so the next getAccessToken must refresh).
 */
export async function seedConnection(
  store: Store,
  emulatorUrl: string,
  identifier: string,
  options: { now: Date; accessTtlMs?: number; refreshTtlMs?: number },
): Promise<{ accessToken: string; refreshToken: string }> {
  const issued = await loginAutoApproved(emulatorUrl, SCOPES.join(" "));
  const at = options.now.getTime();
  await store.upsertConnection(
    {
      identifier,
      scopes: issued.scope.split(" "),
      airtableUserId: null,
      email: null,
      accessToken: issued.access_token,
      refreshToken: issued.refresh_token,
      accessTokenExpiresAt: new Date(at + (options.accessTtlMs ?? 3600_000)),
      refreshTokenExpiresAt: new Date(at + (options.refreshTtlMs ?? 60 * 86_400_000)),
    },
    options.now,
    (created) => ({ type: created ? "connection.created" : "connection.recovered" }),
  );
  return { accessToken: issued.access_token, refreshToken: issued.refresh_token };
}

export interface EmulatorCounters {
  refreshes: number;
  invalid_grants: number;
  code_exchanges: number;
}

export async function emulatorStats(emulatorUrl: string): Promise<EmulatorCounters> {
  const res = await fetch(new URL("/__emulator/stats", emulatorUrl));
  return (await res.json()) as EmulatorCounters;
}

/** Arms a token-endpoint fault (`null` clears it). */
export async function setTokenFault(
  emulatorUrl: string,
  fault: {
    status?: number;
    error?: string;
    count?: number;
    delay_ms?: number;
    rotate_then_drop?: boolean;
  } | null,
): Promise<void> {
  const res = await fetch(new URL("/__emulator/faults", emulatorUrl), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token: fault }),
  });
  if (!res.ok) throw new Error(`fault not armed: ${res.status} ${await res.text()}`);
}

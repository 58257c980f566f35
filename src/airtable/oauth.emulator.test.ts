/**
 * The core against the real emulator over real HTTP: authorize (auto-approve) → exchange →
 * Web API → expiry → refresh (rotation) → reuse of the rotated token → re-authorization required.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failure } from "../../test/support/airlock-error.js";
import { type RunningEmulator, startEmulator } from "../emulator/index.js";
import { AirtableApi } from "./api.js";
import { checkReachability } from "./config.js";
import { AirtableOAuth } from "./oauth.js";
import { createPkcePair } from "./pkce.js";
import type { AirtableOAuthConfig } from "./types.js";

const REDIRECT = "http://localhost:8085/callback";
const SCOPES = ["data.records:read", "schema.bases:read", "user.email:read"];

/** Follows the authorize URL the way a browser would, up to the redirect back to the app. */
async function authorize(client: AirtableOAuth): Promise<{ code: string; codeVerifier: string }> {
  const { codeVerifier, codeChallenge, state } = createPkcePair();
  const response = await fetch(client.authorizationUrl({ state, codeChallenge }), { redirect: "manual" });
  expect(response.status).toBeGreaterThanOrEqual(300);
  expect(response.status).toBeLessThan(400);
  const location = response.headers.get("location")!;
  expect(location.startsWith(`${REDIRECT}?`)).toBe(true);
  return { ...client.parseCallback(location, state), codeVerifier };
}

describe.each([
  { kind: "public client", secret: undefined },
  { kind: "confidential client", secret: "emulator-secret:with+odd/chars=" },
])("against the emulator ($kind)", ({ secret }) => {
  let emulator: RunningEmulator;
  let config: AirtableOAuthConfig;

  beforeAll(async () => {
    emulator = await startEmulator({
      clientId: "airlock-test-client",
      ...(secret ? { clientSecret: secret } : {}),
      redirectUris: [REDIRECT],
      autoApprove: true,
    });
    config = {
      clientId: "airlock-test-client",
      clientSecret: secret,
      redirectUri: REDIRECT,
      scopes: SCOPES,
      oauthUrl: emulator.url,
      apiUrl: emulator.url,
    };
  });
  afterAll(() => emulator.close());

  it("authorizes, exchanges, calls the API, refreshes after expiry, and detects a reused refresh token", async () => {
    const oauth = new AirtableOAuth(config);
    const { code, codeVerifier } = await authorize(oauth);
    const tokens = await oauth.exchangeCode({ code, codeVerifier });
    expect(tokens.tokenType).toBe("Bearer");
    expect([...tokens.scopes].sort()).toEqual([...SCOPES].sort());
    const lifetime = tokens.accessTokenExpiresAt.getTime() - tokens.obtainedAt.getTime();
    expect(lifetime).toBe(3600_000);
    expect(tokens.refreshTokenExpiresAt.getTime() - tokens.obtainedAt.getTime()).toBe(5184000_000);

    // The code is single-use.
    const reused = await failure(oauth.exchangeCode({ code, codeVerifier }));
    expect(reused.code).toBe("invalid_grant");

    // The client's waits pass on the emulator's clock (and the client's own), not the wall clock.
    const waits: number[] = [];
    let skipped = 0;
    const api = new AirtableApi({
      accessToken: tokens.accessToken,
      apiUrl: emulator.url,
      now: () => Date.now() + skipped,
      sleep: async (ms) => {
        waits.push(ms);
        skipped += ms;
        emulator.advanceClock(ms / 1000);
      },
    });
    const me = await api.whoami();
    expect(me.id).toMatch(/^usr/);
    expect(me.email).toContain("@");
    expect([...(me.scopes ?? [])].sort()).toEqual([...SCOPES].sort());
    const bases = await api.listBases();
    expect(bases.length).toBeGreaterThanOrEqual(2);
    const { tables } = await api.getBaseSchema(bases[0]!.id);
    expect(tables.length).toBeGreaterThan(0);
    const records = await api.listRecords(bases[0]!.id, tables[0]!.id, { pageSize: 2 });
    expect(records.length).toBeGreaterThan(2);
    expect(new Set(records.map((r) => r.id)).size).toBe(records.length);
    // Paced to 5 requests per second per base: waits happened, and never a 30 s penalty.
    expect(waits.length).toBeGreaterThan(0);
    expect(waits.filter((ms) => ms > 1050)).toEqual([]);
    expect(emulator.stats().rate_limited).toBe(0);

    // 61 minutes later the access token is dead; the refresh token is not.
    emulator.advanceClock(61 * 60);
    expect((await failure(api.whoami())).details).toMatchObject({ status: 401 });
    const fresh = await oauth.refresh(tokens.refreshToken);
    expect(fresh.refreshToken).not.toBe(tokens.refreshToken);
    expect(fresh.accessToken).not.toBe(tokens.accessToken);
    expect(
      (await new AirtableApi({ accessToken: fresh.accessToken, apiUrl: emulator.url }).whoami()).id,
    ).toBe(me.id);

    // Presenting the rotated-out refresh token again: terminal, the user must authorize again.
    const dead = await failure(oauth.refresh(tokens.refreshToken));
    expect(dead.code).toBe("reauth_required");
    expect(dead.retryable).toBe(false);

    const stats = emulator.stats();
    expect(stats.code_exchanges).toBe(1);
    expect(stats.refreshes).toBe(1);
    expect(stats.invalid_grants).toBeGreaterThanOrEqual(2);
  });

  it("the token function given to AirtableApi is asked to force a refresh after a 401", async () => {
    const oauth = new AirtableOAuth(config);
    const { code, codeVerifier } = await authorize(oauth);
    let current = await oauth.exchangeCode({ code, codeVerifier });
    emulator.advanceClock(61 * 60);
    const api = new AirtableApi({
      apiUrl: emulator.url,
      accessToken: async (options) => {
        if (options?.forceRefresh) current = await oauth.refresh(current.refreshToken);
        return current.accessToken;
      },
    });
    expect((await api.whoami()).id).toMatch(/^usr/);
  });

  it("wrong client credentials → invalid_client naming the right variables", async () => {
    const oauth = new AirtableOAuth(config);
    const { code, codeVerifier } = await authorize(oauth);
    const wrong = new AirtableOAuth(
      secret
        ? { ...config, clientSecret: "not-the-secret" }
        : { ...config, clientSecret: "a-secret-it-does-not-have" },
    );
    const err = await failure(wrong.exchangeCode({ code, codeVerifier }));
    expect(err.code).toBe("invalid_client");
    expect(err.hint).toContain("AIRTABLE_CLIENT_SECRET");
  });

  it("doctor's reachability check passes", async () => {
    const checks = await checkReachability(config);
    expect(checks.map((c) => c.level)).toEqual(["ok", "ok"]);
  });
});

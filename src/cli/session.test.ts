import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { storedCredentials } from "../../test/support/credentials.js";
import type { TokenSet } from "../airtable/types.js";
import { AirlockError, isAirlockError } from "../shared/errors.js";
import { FileCredentialStore, type StoredCredentials } from "./credentials-file.js";
import { freshCredentials, isAccessTokenFresh, refreshConfig, tokenFields, withTokens } from "./session.js";

const MINUTE = 60_000;

const stored = (accessExpiresInMs: number, overrides: Partial<StoredCredentials> = {}) =>
  storedCredentials({ now: new Date(), accessExpiresInMs }, overrides);

/** A token endpoint stand-in that rotates like Airtable: each refresh token works once. */
class RotatingRefresher {
  calls = 0;
  #valid = "refresh-0";
  #fail: AirlockError | undefined;
  constructor(fail?: AirlockError) {
    this.#fail = fail;
  }
  async refresh(refreshToken: string): Promise<TokenSet> {
    this.calls += 1;
    await new Promise((r) => setTimeout(r, 20));
    if (this.#fail) throw this.#fail;
    if (refreshToken !== this.#valid) throw new AirlockError("reauth_required", "invalid_grant");
    this.#valid = `refresh-${this.calls}`;
    const now = new Date();
    return {
      accessToken: `access-${this.calls}`,
      refreshToken: this.#valid,
      tokenType: "Bearer",
      scopes: ["data.records:read"],
      accessTokenExpiresAt: new Date(now.getTime() + 60 * MINUTE),
      refreshTokenExpiresAt: new Date(now.getTime() + 60 * 24 * 60 * MINUTE),
      obtainedAt: now,
    };
  }
}

describe("freshCredentials", () => {
  let root: string;
  let store: FileCredentialStore;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "airlock-session-"));
    store = new FileCredentialStore(root);
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const options = (refresher: RotatingRefresher, extra: Record<string, unknown> = {}) => ({
    store,
    profile: "default",
    env: {},
    refresher: () => refresher,
    ...extra,
  });

  it("throws not_logged_in without a file", async () => {
    const error = await freshCredentials(options(new RotatingRefresher())).catch((e: unknown) => e);
    expect(isAirlockError(error, "not_logged_in")).toBe(true);
  });

  it("returns a token valid for 5+ minutes without refreshing", async () => {
    await store.write("default", stored(6 * MINUTE));
    const refresher = new RotatingRefresher();
    expect((await freshCredentials(options(refresher))).accessToken).toBe("access-0");
    expect(refresher.calls).toBe(0);
  });

  it("refreshes a token with less than 5 minutes left, and persists the rotation before returning", async () => {
    await store.write("default", stored(4 * MINUTE));
    const refresher = new RotatingRefresher();
    const result = await freshCredentials(options(refresher));
    expect(result.accessToken).toBe("access-1");
    expect(refresher.calls).toBe(1);
    expect(await store.read("default")).toMatchObject({ accessToken: "access-1", refreshToken: "refresh-1" });
  });

  it("concurrent callers refresh once between them", async () => {
    await store.write("default", stored(-MINUTE));
    const refresher = new RotatingRefresher();
    const results = await Promise.all(Array.from({ length: 5 }, () => freshCredentials(options(refresher))));
    expect(refresher.calls).toBe(1);
    expect(new Set(results.map((r) => r.accessToken))).toEqual(new Set(["access-1"]));
  });

  it("after a 401, refreshes only if the stored token is still the rejected one", async () => {
    await store.write("default", stored(30 * MINUTE));
    const refresher = new RotatingRefresher();
    const first = await freshCredentials(options(refresher, { rejectedAccessToken: "access-0" }));
    expect(first.accessToken).toBe("access-1");
    // A second caller that was rejected with the old token uses the new one.
    const second = await freshCredentials(options(refresher, { rejectedAccessToken: "access-0" }));
    expect(second.accessToken).toBe("access-1");
    expect(refresher.calls).toBe(1);
  });

  it("invalid_grant marks the profile reauth_required and stops further attempts", async () => {
    await store.write("default", stored(-MINUTE, { refreshToken: "rotated-away" }));
    const refresher = new RotatingRefresher();
    const error = await freshCredentials(options(refresher)).catch((e: unknown) => e);
    expect(isAirlockError(error, "reauth_required")).toBe(true);
    expect((error as AirlockError).hint).toContain("airlock login");
    expect((await store.read("default"))?.reauthReason).toContain("invalid_grant");
    await freshCredentials(options(refresher)).catch(() => undefined);
    expect(refresher.calls).toBe(1);
  });

  it("an expired refresh token needs a new login, without calling Airtable", async () => {
    await store.write(
      "default",
      stored(-MINUTE, { refreshTokenExpiresAt: new Date(Date.now() - 1000).toISOString() }),
    );
    const refresher = new RotatingRefresher();
    const error = await freshCredentials(options(refresher)).catch((e: unknown) => e);
    expect(isAirlockError(error, "reauth_required")).toBe(true);
    expect(refresher.calls).toBe(0);
  });

  it("a transient failure keeps the stored tokens and releases the lock", async () => {
    await store.write("default", stored(-MINUTE));
    const failing = new RotatingRefresher(new AirlockError("transient", "HTTP 503"));
    await expect(freshCredentials(options(failing))).rejects.toMatchObject({ code: "transient" });
    expect((await store.read("default"))?.refreshToken).toBe("refresh-0");
    const working = new RotatingRefresher();
    expect((await freshCredentials(options(working))).accessToken).toBe("access-1");
  });
});

describe("refreshConfig", () => {
  it("uses the stored client and endpoints, and the secret only from the environment", () => {
    const config = refreshConfig(stored(0, { usesClientSecret: true }), { AIRTABLE_CLIENT_SECRET: "s3cret" });
    expect(config).toMatchObject({
      clientId: "client-1",
      clientSecret: "s3cret",
      oauthUrl: "https://airtable.com",
    });
    expect(refreshConfig(stored(0), { AIRTABLE_CLIENT_SECRET: "other" }).clientSecret).toBeUndefined();
  });
  it("explains a missing secret", () => {
    expect(() => refreshConfig(stored(0, { usesClientSecret: true }), {})).toThrowError(
      /AIRTABLE_CLIENT_SECRET/,
    );
  });
});

describe("isAccessTokenFresh", () => {
  it("needs at least 5 minutes left", () => {
    expect(isAccessTokenFresh(stored(5 * MINUTE + 1000))).toBe(true);
    expect(isAccessTokenFresh(stored(5 * MINUTE - 1000))).toBe(false);
  });
});

describe("tokenFields / withTokens", () => {
  const tokens: TokenSet = {
    accessToken: "access-9",
    refreshToken: "refresh-9",
    tokenType: "Bearer",
    scopes: ["data.records:read", "schema.bases:read"],
    accessTokenExpiresAt: new Date("2026-01-01T01:00:00.000Z"),
    refreshTokenExpiresAt: new Date("2026-03-02T00:00:00.000Z"),
    obtainedAt: new Date("2026-01-01T00:00:00.000Z"),
  };

  it("saves a TokenSet as ISO dates with the Bearer type", () => {
    expect(tokenFields(tokens)).toEqual({
      scopes: ["data.records:read", "schema.bases:read"],
      accessToken: "access-9",
      refreshToken: "refresh-9",
      tokenType: "Bearer",
      accessTokenExpiresAt: "2026-01-01T01:00:00.000Z",
      refreshTokenExpiresAt: "2026-03-02T00:00:00.000Z",
      obtainedAt: "2026-01-01T00:00:00.000Z",
    });
  });

  it("withTokens replaces the tokens, clears a reauth reason, and keeps the rest", () => {
    const before = stored(-1, { reauthReason: "invalid_grant", email: "ada@example.com" });
    const now = new Date("2026-01-01T00:00:05.000Z");
    expect(withTokens(before, tokens, now)).toEqual({
      ...before,
      ...tokenFields(tokens),
      updatedAt: "2026-01-01T00:00:05.000Z",
      reauthReason: null,
    });
  });
});

import { describe, expect, it } from "vitest";
import { EmulatorClock } from "./clock.js";
import { GrantStore } from "./grants.js";

function setup() {
  const clock = new EmulatorClock();
  return { clock, grants: new GrantStore(clock, { accessTokenTtl: 3600, refreshTokenTtl: 5_184_000 }) };
}

const codeDetails = {
  clientId: "c",
  redirectUri: "http://localhost/cb",
  codeChallenge: "x".repeat(43),
  scopes: ["a"],
  bases: "all" as const,
};

describe("GrantStore", () => {
  it("codes are single-use and expire after 10 minutes", () => {
    const { clock, grants } = setup();
    const code = grants.issueCode(codeDetails);
    expect(grants.takeCode(code)).toMatchObject({ clientId: "c" });
    expect(grants.takeCode(code)).toBeUndefined();
    const late = grants.issueCode(codeDetails);
    clock.advance(600);
    expect(grants.takeCode(late)).toBe("expired");
    expect(grants.takeCode(late)).toBeUndefined();
  });

  it("issuing a new pair invalidates the grant's previous access token", () => {
    const { grants } = setup();
    const grant = grants.createGrant(["a"], "all");
    const first = grants.issueTokens(grant, ["a"]);
    expect(grants.findAccessToken(first.accessToken)?.grant).toBe(grant);
    const outcome = grants.refresh(first.refreshToken);
    expect(outcome.ok).toBe(true);
    expect(grants.findAccessToken(first.accessToken)).toBeUndefined();
    if (outcome.ok) expect(grants.findAccessToken(outcome.tokens.accessToken)).toBeDefined();
  });

  it("reuse of a rotated refresh token revokes the grant", () => {
    const { grants } = setup();
    const grant = grants.createGrant(["a"], "all");
    const first = grants.issueTokens(grant, ["a"]);
    const second = grants.refresh(first.refreshToken);
    expect(grants.refresh(first.refreshToken)).toEqual({ ok: false, reason: "reused" });
    expect(grant.revoked).toBe(true);
    expect(grants.grantCount).toBe(0);
    if (second.ok) {
      expect(grants.findAccessToken(second.tokens.accessToken)).toBeUndefined();
      expect(grants.refresh(second.tokens.refreshToken)).toEqual({ ok: false, reason: "unknown" });
    }
  });

  it("refresh scopes must be a subset; a refused subset does not rotate", () => {
    const { grants } = setup();
    const grant = grants.createGrant(["a", "b"], "all");
    const first = grants.issueTokens(grant, grant.scopes);
    expect(grants.refresh(first.refreshToken, ["a", "c"])).toEqual({
      ok: false,
      reason: "scope_not_granted",
    });
    const narrowed = grants.refresh(first.refreshToken, ["b"]);
    expect(narrowed.ok && narrowed.tokens.scopes).toEqual(["b"]);
    // The grant keeps its scopes: the next refresh without `scope` gets all of them back.
    if (narrowed.ok) {
      const full = grants.refresh(narrowed.tokens.refreshToken);
      expect(full.ok && full.tokens.scopes).toEqual(["a", "b"]);
    }
  });

  it("expired access tokens fail lookup; expired refresh tokens fail refresh", () => {
    const { clock, grants } = setup();
    const tokens = grants.issueTokens(grants.createGrant(["a"], "all"), ["a"]);
    clock.advance(3600);
    expect(grants.findAccessToken(tokens.accessToken)).toBeUndefined();
    clock.advance(5_184_000);
    expect(grants.refresh(tokens.refreshToken)).toEqual({ ok: false, reason: "expired" });
  });

  it("consents expire after an hour and can be ended", () => {
    const { clock, grants } = setup();
    const request = {
      clientId: "c",
      redirectUri: "u",
      state: "s",
      codeChallenge: "c",
      codeChallengeMethod: "S256" as const,
      scopes: ["a"],
    };
    const a = grants.createConsent(request);
    const b = grants.createConsent(request);
    expect(grants.getConsent(a.id)).toBe(a);
    grants.deleteConsent(a.id);
    expect(grants.getConsent(a.id)).toBeUndefined();
    clock.advance(3600);
    expect(grants.getConsent(b.id)).toBeUndefined();
  });

  it("revokeAll and reset forget every token", () => {
    const { grants } = setup();
    const t1 = grants.issueTokens(grants.createGrant(["a"], "all"), ["a"]);
    grants.issueTokens(grants.createGrant(["a"], "all"), ["a"]);
    expect(grants.revokeAll()).toBe(2);
    expect(grants.findAccessToken(t1.accessToken)).toBeUndefined();
    const t3 = grants.issueTokens(grants.createGrant(["a"], "all"), ["a"]);
    grants.reset();
    expect(grants.findAccessToken(t3.accessToken)).toBeUndefined();
    expect(grants.grantCount).toBe(0);
  });

  it("snapshot/restore carries grants, live tokens (by hash only) and rotation history; changes are reported", () => {
    const { clock, grants } = setup();
    let changes = 0;
    const watched = new GrantStore(
      clock,
      { accessTokenTtl: 3600, refreshTokenTtl: 5_184_000 },
      () => true,
      () => {
        changes++;
      },
    );
    const grant = watched.createGrant(["a"], new Set(["app1"]));
    const first = watched.issueTokens(grant, ["a"]);
    const outcome = watched.refresh(first.refreshToken);
    if (!outcome.ok) throw new Error("refresh failed");
    expect(changes).toBe(3);
    watched.issueCode(codeDetails);
    expect(changes).toBe(3); // codes are not durable

    const saved = watched.snapshot();
    const text = JSON.stringify(saved);
    for (const token of [first.accessToken, first.refreshToken, outcome.tokens.accessToken]) {
      expect(text).not.toContain(token);
    }
    expect(saved).toMatchObject([{ id: grant.id, bases: ["app1"], scopes: ["a"] }]);
    expect(saved[0]!.access_tokens).toHaveLength(1); // the replaced one is gone
    expect(saved[0]!.refresh_tokens.map((t) => t.rotated).sort()).toEqual([false, true]);

    grants.restore(JSON.parse(text));
    expect(grants.findAccessToken(outcome.tokens.accessToken)?.grant.bases).toEqual(new Set(["app1"]));
    expect(grants.refresh(first.refreshToken)).toEqual({ ok: false, reason: "reused" });
    expect(grants.findAccessToken(outcome.tokens.accessToken)).toBeUndefined();
    expect(grants.grantCount).toBe(0);
  });

  it("snapshot leaves out expired access tokens", () => {
    const { clock, grants } = setup();
    grants.issueTokens(grants.createGrant(["a"], "all"), ["a"]);
    clock.advance(3600);
    expect(grants.snapshot()[0]).toMatchObject({ access_tokens: [], refresh_tokens: [{ rotated: false }] });
  });
});

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { failure, syncFailure } from "../../test/support/airlock-error.js";
import {
  type CraftedResponse,
  type RecordedRequest,
  type RecordingServer,
  startRecordingServer,
} from "../../test/support/recording-server.js";
import type { AirlockError } from "../shared/errors.js";
import { AirtableOAuth } from "./oauth.js";
import { computeCodeChallenge, generateCodeVerifier, generateState } from "./pkce.js";
import type { AirtableOAuthConfig } from "./types.js";

const NOW = new Date("2026-01-01T00:00:00.000Z");
const SECRET = "s3cr:et+/=&%é"; // characters that form-urlencoding would change
const CODE = "code-abcdef-0123456789";
const REFRESH = "refresh-token-XYZ-0987654321";
const VERIFIER = generateCodeVerifier();

let server: RecordingServer;
let answer: (req: RecordedRequest, index: number) => CraftedResponse;

beforeEach(async () => {
  answer = () => ({ status: 500 });
  server = await startRecordingServer((req, i) => answer(req, i));
});
afterEach(() => server.close());

function config(overrides: Partial<AirtableOAuthConfig> = {}): AirtableOAuthConfig {
  return {
    clientId: "client-123",
    redirectUri: "http://localhost:8085/callback",
    scopes: ["data.records:read", "schema.bases:read"],
    oauthUrl: server.url,
    apiUrl: server.url,
    ...overrides,
  };
}

const client = (overrides: Partial<AirtableOAuthConfig> = {}, timeoutMs = 5000) =>
  new AirtableOAuth(config(overrides), { now: () => NOW, timeoutMs });

const tokenBody = (extra: Record<string, unknown> = {}) => ({
  access_token: "access-NEW-111",
  refresh_token: "refresh-NEW-222",
  token_type: "Bearer",
  scope: "data.records:read schema.bases:read",
  expires_in: 3600,
  refresh_expires_in: 5184000,
  ...extra,
});

/** Nothing secret may appear in what an error says. */
function expectNoSecrets(err: AirlockError) {
  const text = JSON.stringify({ ...err.toJSON(), stack: undefined });
  for (const secret of [SECRET, CODE, REFRESH, VERIFIER, "access-NEW-111", "refresh-NEW-222"]) {
    expect(text).not.toContain(secret);
  }
}

describe("authorizationUrl", () => {
  it("carries exactly Airtable's parameters", () => {
    const state = generateState();
    const challenge = computeCodeChallenge(VERIFIER);
    const url = client().authorizationUrl({ state, codeChallenge: challenge });
    expect(`${url.origin}${url.pathname}`).toBe(`${server.url}/oauth2/v1/authorize`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: "client-123",
      redirect_uri: "http://localhost:8085/callback",
      response_type: "code",
      scope: "data.records:read schema.bases:read",
      state,
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    const custom = client().authorizationUrl({
      state,
      codeChallenge: challenge,
      scopes: ["user.email:read"],
      redirectUri: "https://app.example.com/cb",
    });
    expect(custom.searchParams.get("scope")).toBe("user.email:read");
    expect(custom.searchParams.get("redirect_uri")).toBe("https://app.example.com/cb");
  });

  it("refuses a bad state, a plain verifier as challenge, and unknown scopes", () => {
    const challenge = computeCodeChallenge(VERIFIER);
    expect(
      syncFailure(() => client().authorizationUrl({ state: "short", codeChallenge: challenge })).code,
    ).toBe("invalid_input");
    expect(
      syncFailure(() => client().authorizationUrl({ state: generateState(), codeChallenge: VERIFIER })).code,
    ).toBe("invalid_input");
    const err = syncFailure(() =>
      client().authorizationUrl({
        state: generateState(),
        codeChallenge: challenge,
        scopes: ["webhook.manage"],
      }),
    );
    expect(err.code).toBe("invalid_scope");
  });
});

describe("construction", () => {
  it("allows plain http only to loopback, and refuses Google's URL", () => {
    expect(() => client({ oauthUrl: "http://127.0.0.1:1" })).not.toThrow();
    expect(syncFailure(() => client({ oauthUrl: "http://airtable.example.com" })).code).toBe(
      "config_invalid",
    );
    expect(syncFailure(() => client({ oauthUrl: "https://oauth2.googleapis.com/token" })).message).toMatch(
      /Google/,
    );
    expect(syncFailure(() => client({ clientId: " " })).code).toBe("config_invalid");
  });
});

describe("exchangeCode", () => {
  it("public client: form body with client_id, no Authorization header, full token response parsed", async () => {
    answer = () => ({ status: 200, body: tokenBody({ refresh_expires_in: 1000 }) });
    const tokens = await client().exchangeCode({ code: CODE, codeVerifier: VERIFIER });
    const req = server.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.url).toBe("/oauth2/v1/token");
    expect(req.headers["content-type"]).toMatch(/^application\/x-www-form-urlencoded/);
    expect(req.headers.authorization).toBeUndefined();
    const body = new URLSearchParams(req.body);
    expect([...body.keys()].sort()).toEqual([
      "client_id",
      "code",
      "code_verifier",
      "grant_type",
      "redirect_uri",
    ]);
    expect(Object.fromEntries(body)).toEqual({
      grant_type: "authorization_code",
      code: CODE,
      redirect_uri: "http://localhost:8085/callback",
      code_verifier: VERIFIER,
      client_id: "client-123",
    });
    expect(tokens).toEqual({
      accessToken: "access-NEW-111",
      refreshToken: "refresh-NEW-222",
      tokenType: "Bearer",
      scopes: ["data.records:read", "schema.bases:read"],
      accessTokenExpiresAt: new Date(NOW.getTime() + 3600_000),
      refreshTokenExpiresAt: new Date(NOW.getTime() + 1000_000),
      obtainedAt: NOW,
    });
  });

  it("confidential client: Basic with standard base64 of the raw id:secret, no client_id in the body", async () => {
    answer = () => ({ status: 200, body: tokenBody() });
    await client({ clientSecret: SECRET }).exchangeCode({
      code: CODE,
      codeVerifier: VERIFIER,
      redirectUri: "https://app.example.com/cb",
    });
    const req = server.requests[0]!;
    expect(req.headers.authorization).toBe(
      `Basic ${Buffer.from(`client-123:${SECRET}`, "utf8").toString("base64")}`,
    );
    const body = new URLSearchParams(req.body);
    expect(body.has("client_id")).toBe(false);
    expect(body.has("client_secret")).toBe(false);
    expect(body.get("redirect_uri")).toBe("https://app.example.com/cb");
  });

  it("invalid_grant on a code → invalid_grant listing the causes", async () => {
    answer = () => ({ status: 400, body: { error: "invalid_grant", error_description: "code expired" } });
    const err = await failure(client().exchangeCode({ code: CODE, codeVerifier: VERIFIER }));
    expect(err.code).toBe("invalid_grant");
    expect(err.retryable).toBe(false);
    expect(err.message).toContain("code expired");
    expect(err.hint).toMatch(/single-use/);
    expect(err.hint).toMatch(/10 minutes/);
    expect(err.hint).toMatch(/code_verifier/);
    expect(err.hint).toMatch(/redirect_uri/);
    expectNoSecrets(err);
  });

  it("refuses an empty code or an invalid verifier before calling Airtable", async () => {
    expect((await failure(client().exchangeCode({ code: "", codeVerifier: VERIFIER }))).code).toBe(
      "invalid_input",
    );
    expect((await failure(client().exchangeCode({ code: CODE, codeVerifier: "x~" }))).code).toBe(
      "invalid_input",
    );
    expect(server.requests).toHaveLength(0);
  });
});

describe("refresh", () => {
  it("sends grant_type, refresh_token and client_id; applies defaults for missing lifetimes; trims token_type", async () => {
    answer = () => ({
      status: 200,
      body: { access_token: "a2", refresh_token: "r2", token_type: "  bEaReR  " },
    });
    const tokens = await client().refresh(REFRESH);
    const body = new URLSearchParams(server.requests[0]!.body);
    expect(Object.fromEntries(body)).toEqual({
      grant_type: "refresh_token",
      refresh_token: REFRESH,
      client_id: "client-123",
    });
    expect(tokens.tokenType).toBe("Bearer");
    expect(tokens.scopes).toEqual(["data.records:read", "schema.bases:read"]);
    expect(tokens.accessTokenExpiresAt).toEqual(new Date(NOW.getTime() + 3600_000));
    expect(tokens.refreshTokenExpiresAt).toEqual(new Date(NOW.getTime() + 60 * 86400_000));
  });

  it("accepts lifetimes as numeric strings and a scope subset", async () => {
    answer = () => ({
      status: 200,
      body: tokenBody({ expires_in: "120", refresh_expires_in: "86400", scope: "data.records:read" }),
    });
    const tokens = await client({ clientSecret: "x" }).refresh(REFRESH, { scopes: ["data.records:read"] });
    expect(new URLSearchParams(server.requests[0]!.body).get("scope")).toBe("data.records:read");
    expect(tokens.scopes).toEqual(["data.records:read"]);
    expect(tokens.accessTokenExpiresAt).toEqual(new Date(NOW.getTime() + 120_000));
    expect(tokens.refreshTokenExpiresAt).toEqual(new Date(NOW.getTime() + 86400_000));
  });

  it("keeps the presented refresh token when none comes back (RFC 6749 §6)", async () => {
    answer = () => ({ status: 200, body: { access_token: "a2", token_type: "bearer" } });
    expect((await client().refresh(REFRESH)).refreshToken).toBe(REFRESH);
  });

  it("invalid_grant on refresh → reauth_required (terminal)", async () => {
    answer = () => ({
      status: 400,
      body: { error: "invalid_grant", error_description: "refresh token revoked" },
    });
    const err = await failure(client().refresh(REFRESH));
    expect(err.code).toBe("reauth_required");
    expect(err.retryable).toBe(false);
    expect(err.hint).toMatch(/must authorize again/);
    expect(err.hint).not.toMatch(/airlock login|connect link/);
    expect(err.details).toMatchObject({ status: 400, error: "invalid_grant", grant: "refresh_token" });
    expectNoSecrets(err);
  });

  it("invalid_client names AIRTABLE_CLIENT_SECRET when one is configured, and says to set it when not", async () => {
    answer = () => ({ status: 401, body: { error: "invalid_client" } });
    const withSecret = await failure(client({ clientSecret: SECRET }).refresh(REFRESH));
    expect(withSecret.code).toBe("invalid_client");
    expect(withSecret.hint).toMatch(/AIRTABLE_CLIENT_ID and AIRTABLE_CLIENT_SECRET/);
    expectNoSecrets(withSecret);
    const without = await failure(client().refresh(REFRESH));
    expect(without.code).toBe("invalid_client");
    expect(without.hint).toMatch(
      /Check AIRTABLE_CLIENT_ID\. If the integration has a client secret, set AIRTABLE_CLIENT_SECRET/,
    );
  });

  it("a 401 with a WWW-Authenticate challenge is still invalid_client", async () => {
    answer = () => ({
      status: 401,
      headers: { "www-authenticate": 'Basic realm="airtable"' },
      body: { error: "invalid_client" },
    });
    expect((await failure(client({ clientSecret: "x" }).refresh(REFRESH))).code).toBe("invalid_client");
  });

  it("invalid_scope → invalid_scope", async () => {
    answer = () => ({ status: 400, body: { error: "invalid_scope" } });
    const err = await failure(client().refresh(REFRESH, { scopes: ["data.records:write"] }));
    expect(err.code).toBe("invalid_scope");
    expect(err.hint).toMatch(/AIRTABLE_SCOPES/);
  });

  it.each([
    [409, { error: "conflict" }],
    [429, { error: "too_many_requests" }],
    [500, "Internal Server Error"],
    [502, "<html>bad gateway</html>"],
    [503, { error: "temporarily_unavailable" }],
  ])("HTTP %i → transient (retryable)", async (status, body) => {
    answer = () => ({ status, body });
    const err = await failure(client().refresh(REFRESH));
    expect(err.code).toBe("transient");
    expect(err.retryable).toBe(true);
    expect(err.details).toMatchObject({ status });
    expectNoSecrets(err);
  });

  it("a dropped connection → transient", async () => {
    answer = () => ({ drop: true });
    const err = await failure(client().refresh(REFRESH));
    expect(err.code).toBe("transient");
    expect(err.retryable).toBe(true);
    expectNoSecrets(err);
  });

  it("no answer within timeoutMs → transient", async () => {
    answer = () => ({ hang: true });
    const err = await failure(client({}, 150).refresh(REFRESH));
    expect(err.code).toBe("transient");
    expect(err.message).toMatch(/timed out/);
  });

  it("an HTML 404 (wrong URL) → authorization_failed pointing at AIRTABLE_OAUTH_URL", async () => {
    answer = () => ({ status: 404, headers: { "content-type": "text/html" }, body: "<html>nope</html>" });
    const err = await failure(client().refresh(REFRESH));
    expect(err.code).toBe("authorization_failed");
    expect(err.hint).toMatch(/AIRTABLE_OAUTH_URL/);
  });

  it("a 200 that is not a token response → authorization_failed, without echoing the body", async () => {
    answer = () => ({ status: 200, body: { refresh_token: "refresh-NEW-222", token_type: "bearer" } });
    const err = await failure(client().refresh(REFRESH));
    expect(err.code).toBe("authorization_failed");
    expectNoSecrets(err);
    answer = () => ({ status: 200, body: tokenBody({ token_type: "mac" }) });
    expect((await failure(client().refresh(REFRESH))).code).toBe("authorization_failed");
  });
});

describe("parseCallback", () => {
  const state = "state-0123456789abcdef";
  const cb = (query: string) => `http://localhost:8085/callback?${query}`;

  it("returns the code when state matches, from a URL, a pasted string or a query", () => {
    const query = `code=${CODE}&state=${state}&code_challenge=x&code_challenge_method=S256`;
    expect(client().parseCallback(cb(query), state)).toEqual({ code: CODE });
    expect(client().parseCallback(`  "${cb(query)}"\n`, state)).toEqual({ code: CODE });
    expect(client().parseCallback(new URL(cb(query)), state)).toEqual({ code: CODE });
    expect(client().parseCallback(`?${query}`, state)).toEqual({ code: CODE });
  });

  it("state missing or different → invalid_state", () => {
    expect(syncFailure(() => client().parseCallback(cb(`code=${CODE}`), state)).code).toBe("invalid_state");
    const err = syncFailure(() => client().parseCallback(cb(`code=${CODE}&state=other-state-000000`), state));
    expect(err.code).toBe("invalid_state");
    expectNoSecrets(err);
    // A forged error redirect with a foreign state is still a state failure.
    expect(
      syncFailure(() => client().parseCallback(cb("error=access_denied&state=nope-nope-nope-nope"), state))
        .code,
    ).toBe("invalid_state");
  });

  it("maps Airtable's error redirects with hints", () => {
    const e = (error: string) =>
      syncFailure(() =>
        client().parseCallback(cb(`error=${error}&error_description=Because+reasons&state=${state}`), state),
      );
    const denied = e("access_denied");
    expect(denied.code).toBe("access_denied");
    expect(denied.message).toContain("Because reasons");
    expect(denied.hint).toMatch(/privacy-policy URL/);
    expect(e("invalid_scope").code).toBe("invalid_scope");
    expect(e("server_error").code).toBe("transient");
    expect(e("temporarily_unavailable").retryable).toBe(true);
    expect(e("invalid_request").code).toBe("authorization_failed");
    expect(e("unsupported_response_type").code).toBe("authorization_failed");
  });

  it("no code or a duplicated parameter → invalid_input", () => {
    expect(syncFailure(() => client().parseCallback(cb(`state=${state}`), state)).code).toBe("invalid_input");
    expect(syncFailure(() => client().parseCallback(cb(`code=a&code=b&state=${state}`), state)).code).toBe(
      "invalid_input",
    );
  });
});

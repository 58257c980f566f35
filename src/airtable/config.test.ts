import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { syncFailure } from "../../test/support/airlock-error.js";
import { startRecordingServer } from "../../test/support/recording-server.js";
import {
  checkReachability,
  configToEnv,
  doctorChecks,
  doctorChecksForConfig,
  readAirtableConfig,
} from "./config.js";
import { DEFAULT_REDIRECT_URI } from "./endpoints.js";
import { DEFAULT_SCOPES } from "./scopes.js";

const base = {
  AIRTABLE_CLIENT_ID: "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
  AIRTABLE_REDIRECT_URI: "http://localhost:8085/callback",
  AIRTABLE_SCOPES: "data.records:read schema.bases:read",
};

const configError = (env: Record<string, string | undefined>) =>
  syncFailure(() => readAirtableConfig(env), "config_invalid");

describe("readAirtableConfig", () => {
  it("reads every variable, with Airtable's URLs as defaults", () => {
    expect(readAirtableConfig(base)).toEqual({
      clientId: base.AIRTABLE_CLIENT_ID,
      clientSecret: undefined,
      redirectUri: "http://localhost:8085/callback",
      scopes: ["data.records:read", "schema.bases:read"],
      oauthUrl: "https://airtable.com",
      apiUrl: "https://api.airtable.com",
    });
    const full = readAirtableConfig({
      ...base,
      AIRTABLE_CLIENT_SECRET: "s3cret",
      AIRTABLE_OAUTH_URL: "http://127.0.0.1:4010",
      AIRTABLE_API_URL: "http://127.0.0.1:4010",
    });
    expect(full.clientSecret).toBe("s3cret");
    expect(full.oauthUrl).toBe("http://127.0.0.1:4010");
  });

  it("uses defaults for unset variables and treats an empty secret as none", () => {
    const config = readAirtableConfig(
      { AIRTABLE_CLIENT_ID: "abc", AIRTABLE_CLIENT_SECRET: "" },
      { redirectUri: "http://localhost:8085/callback", scopes: ["data.records:read"] },
    );
    expect(config.redirectUri).toBe("http://localhost:8085/callback");
    expect(config.scopes).toEqual(["data.records:read"]);
    expect(config.clientSecret).toBeUndefined();
  });

  it("applies the documented defaults: the CLI's redirect URI and scopes, Airtable's URLs", () => {
    expect(readAirtableConfig({ AIRTABLE_CLIENT_ID: "abc" })).toEqual({
      clientId: "abc",
      clientSecret: undefined,
      redirectUri: DEFAULT_REDIRECT_URI,
      scopes: [...DEFAULT_SCOPES],
      oauthUrl: "https://airtable.com",
      apiUrl: "https://api.airtable.com",
    });
    expect(DEFAULT_REDIRECT_URI).toBe("http://localhost:8085/callback");
    // The caller's defaults win over the documented ones; the environment wins over both.
    const service = readAirtableConfig(
      { AIRTABLE_CLIENT_ID: "abc", AIRTABLE_SCOPES: "data.records:write" },
      { redirectUri: "https://airlock.example.com/oauth/callback", scopes: ["data.records:read"] },
    );
    expect(service.redirectUri).toBe("https://airlock.example.com/oauth/callback");
    expect(service.scopes).toEqual(["data.records:write"]);
  });

  it("names the variable and the fix when something is wrong", () => {
    let err = configError({ ...base, AIRTABLE_CLIENT_ID: undefined });
    expect(err.code).toBe("config_invalid");
    expect(err.message).toContain("AIRTABLE_CLIENT_ID");
    expect(err.hint).toContain("airtable.com/create/oauth");

    err = configError({ ...base, AIRTABLE_SCOPES: "webhook.manage" });
    expect(err.message).toContain("AIRTABLE_SCOPES");
    expect(err.hint).toContain("webhook:manage");

    err = configError({ ...base, AIRTABLE_SCOPES: " ,, " });
    expect(err.message).toContain("AIRTABLE_SCOPES");

    err = configError({ ...base, AIRTABLE_REDIRECT_URI: "http://example.com/cb" });
    expect(err.message).toContain("AIRTABLE_REDIRECT_URI");
    expect(err.message).toMatch(/https/);

    err = configError({ ...base, AIRTABLE_OAUTH_URL: "https://oauth2.googleapis.com/token" });
    expect(err.message).toContain("AIRTABLE_OAUTH_URL");
    expect(err.hint).toContain("https://airtable.com");

    err = configError({ ...base, AIRTABLE_CLIENT_SECRET: "   " });
    expect(err.message).toContain("AIRTABLE_CLIENT_SECRET");
  });

  it("round-trips through configToEnv", () => {
    const config = readAirtableConfig({ ...base, AIRTABLE_CLIENT_SECRET: "x" });
    expect(readAirtableConfig(configToEnv(config))).toEqual(config);
  });
});

describe("doctorChecks", () => {
  it("reports everything wrong at once, one line per check with a fix", () => {
    const checks = doctorChecks({
      AIRTABLE_CLIENT_ID: "123-abc.apps.googleusercontent.com",
      AIRTABLE_REDIRECT_URI: "http://example.com/cb#x",
      AIRTABLE_SCOPES: "webhook.manage",
      AIRTABLE_OAUTH_URL: "https://api.airtable.com/oauth/token",
    });
    const errors = checks.filter((c) => c.level === "error");
    expect(new Set(errors.map((c) => c.name))).toEqual(
      new Set(["client_id", "redirect_uri", "scopes", "oauth_url"]),
    );
    for (const c of errors) {
      expect(c.ok).toBe(false);
      expect(c.fix).not.toBe("");
    }
    expect(checks.find((c) => c.name === "client_id")?.message).toMatch(/Google/);
  });

  it("passes a good config and explains the public/confidential choice", () => {
    const publicChecks = doctorChecks(base);
    expect(publicChecks.every((c) => c.ok)).toBe(true);
    expect(publicChecks.find((c) => c.name === "client_secret")?.message).toMatch(/public client/);
    const confidential = doctorChecksForConfig(readAirtableConfig({ ...base, AIRTABLE_CLIENT_SECRET: "x" }));
    expect(confidential.find((c) => c.name === "client_secret")?.message).toMatch(/HTTP Basic/);
    expect(confidential.find((c) => c.name === "redirect_uri")?.message).toMatch(/registered/);
  });
});

describe("checkReachability", () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it("is ok when the token endpoint and API answer with JSON errors, sending no credentials", async () => {
    const server = await startRecordingServer((req) =>
      req.url.startsWith("/oauth2/v1/token")
        ? { status: 400, body: { error: "invalid_request" } }
        : { status: 401, body: { error: { type: "AUTHENTICATION_REQUIRED", message: "x" } } },
    );
    close = server.close;
    const checks = await checkReachability({ oauthUrl: server.url, apiUrl: server.url });
    expect(checks.map((c) => [c.name, c.level])).toEqual([
      ["oauth_reachable", "ok"],
      ["api_reachable", "ok"],
    ]);
    expect(server.requests.every((r) => r.headers.authorization === undefined)).toBe(true);
  });

  it("reports an HTML 404 and an unreachable host as errors", async () => {
    const server = await startRecordingServer(() => ({ status: 404, body: "<html>not here</html>" }));
    close = server.close;
    // A port that was just free: nothing listens there.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const deadPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const checks = await checkReachability({ oauthUrl: server.url, apiUrl: `http://127.0.0.1:${deadPort}` });
    expect(checks[0]).toMatchObject({ name: "oauth_reachable", level: "error" });
    expect(checks[0]?.message).toMatch(/does not look like Airtable/);
    expect(checks[1]).toMatchObject({ name: "api_reachable", level: "error" });
    expect(checks[1]?.message).toMatch(/could not be reached/);
  });
});

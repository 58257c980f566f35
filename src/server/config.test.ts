import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { AirlockError } from "../shared/errors.js";
import { generateKeyringValue } from "../store/crypto.js";
import { estimateKeyBits, MIN_SECRET_KEY_BITS, readServiceConfig } from "./config.js";
import { randomToken } from "./secrets.js";

const REAL = {
  AIRTABLE_CLIENT_ID: "client123",
  AIRLOCK_SECRET_KEY: "sk_live_9f2c4e1ab7d3086f5e2b",
  AIRLOCK_ENCRYPTION_KEYS: generateKeyringValue("k1"),
};

function failure(env: NodeJS.ProcessEnv): AirlockError {
  try {
    readServiceConfig(env);
  } catch (error) {
    if (error instanceof AirlockError) return error;
    throw error;
  }
  throw new Error("expected readServiceConfig to throw");
}

describe("readServiceConfig", () => {
  it("defaults to demo mode on localhost:4000 with ./airlock.db", () => {
    const config = readServiceConfig({});
    expect(config).toMatchObject({
      port: 4000,
      publicUrl: "http://localhost:4000",
      publicOrigin: "http://localhost:4000",
      databaseUrl: "./airlock.db",
      demo: true,
      keepAliveDays: 7,
      keepAliveIntervalSeconds: 600,
      proxyMaxBody: 5 * 1024 * 1024,
      webhook: null,
      secretKey: null,
    });
    expect(config.airtable.redirectUri).toBe("http://localhost:4000/oauth/callback");
    expect(config.airtable.scopes).toContain("data.records:read");
  });

  it("reads a real configuration", () => {
    const config = readServiceConfig({
      ...REAL,
      PORT: "8080",
      AIRLOCK_PUBLIC_URL: "https://airlock.example.com/",
      AIRTABLE_REDIRECT_URI: "https://airlock.example.com/oauth/callback",
      AIRTABLE_SCOPES: "data.records:read data.records:write",
      AIRLOCK_ALLOWED_RETURN_ORIGINS: "https://app.example.com, https://admin.example.com",
      AIRLOCK_WEBHOOK_URL: "https://app.example.com/hooks",
      AIRLOCK_WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 7).toString("base64")}`,
      AIRLOCK_WEBHOOK_EVENTS: "connection.created,connection.reauth_required",
    });
    expect(config.demo).toBe(false);
    expect(config.port).toBe(8080);
    expect(config.publicUrl).toBe("https://airlock.example.com");
    expect(config.allowedReturnOrigins).toEqual(["https://app.example.com", "https://admin.example.com"]);
    expect(config.airtable).toMatchObject({
      clientId: "client123",
      oauthUrl: "https://airtable.com",
      apiUrl: "https://api.airtable.com",
      scopes: ["data.records:read", "data.records:write"],
    });
    expect([...(config.webhook?.events ?? [])]).toEqual(["connection.created", "connection.reauth_required"]);
  });

  it.each([
    [{ PORT: "abc" }, "PORT", /whole number/],
    [{ PORT: "70000" }, "PORT", /between/],
    [{ AIRLOCK_PUBLIC_URL: "not a url" }, "AIRLOCK_PUBLIC_URL", /absolute URL/],
    [{ AIRLOCK_PUBLIC_URL: "http://airlock.example.com" }, "AIRLOCK_PUBLIC_URL", /https|http/],
    [{ AIRTABLE_REDIRECT_URI: "http://localhost:4000/callback" }, "AIRTABLE_REDIRECT_URI", /oauth\/callback/],
    [{ AIRTABLE_SCOPES: "webhook.manage" }, "AIRTABLE_SCOPES", /webhook:manage/],
    [{ AIRLOCK_ENCRYPTION_KEYS: "k1:short" }, "AIRLOCK_ENCRYPTION_KEYS", /./],
    [{ AIRLOCK_ENCRYPTION_KEYS: "nocolon" }, "AIRLOCK_ENCRYPTION_KEYS", /kid:base64key/],
    [{ AIRLOCK_SECRET_KEY: "short" }, "AIRLOCK_SECRET_KEY", /too short/],
    [{ AIRLOCK_KEEPALIVE_DAYS: "90" }, "AIRLOCK_KEEPALIVE_DAYS", /between/],
    [{ AIRLOCK_KEEPALIVE_INTERVAL_SECONDS: "0" }, "AIRLOCK_KEEPALIVE_INTERVAL_SECONDS", /between/],
    [{ AIRLOCK_KEEPALIVE_INTERVAL_SECONDS: "10m" }, "AIRLOCK_KEEPALIVE_INTERVAL_SECONDS", /whole number/],
    [{ AIRLOCK_PROXY_MAX_BODY: "5MB" }, "AIRLOCK_PROXY_MAX_BODY", /whole number/],
    [
      { AIRLOCK_ALLOWED_RETURN_ORIGINS: "https://app.example.com/path" },
      "AIRLOCK_ALLOWED_RETURN_ORIGINS",
      /origins only/,
    ],
    [{ AIRLOCK_WEBHOOK_SECRET: "x" }, "AIRLOCK_WEBHOOK_URL", /not/],
    [{ AIRLOCK_WEBHOOK_URL: "https://app.example.com/hooks" }, "AIRLOCK_WEBHOOK_SECRET", /must be set/],
    [{ AIRTABLE_CLIENT_SECRET: "s3cr3t" }, "AIRTABLE_CLIENT_ID", /not/],
  ])("fails fast on %j naming %s", (env, variable, detail) => {
    const error = failure(env);
    expect(error.code === "config_invalid" || error.code === "invalid_scope").toBe(true);
    expect(`${error.message} ${error.hint}`).toContain(variable);
    expect(`${error.message} ${error.hint}`).toMatch(detail);
    expect(error.hint.length).toBeGreaterThan(10);
  });

  it("reads AIRLOCK_KEEPALIVE_INTERVAL_SECONDS", () => {
    expect(readServiceConfig({ AIRLOCK_KEEPALIVE_INTERVAL_SECONDS: "5" }).keepAliveIntervalSeconds).toBe(5);
  });

  it("requires the secret key and encryption keys with real credentials, with a generation hint", () => {
    const noSecret = failure({ AIRTABLE_CLIENT_ID: "c" });
    expect(noSecret.message).toContain("AIRLOCK_SECRET_KEY");
    expect(noSecret.hint).toContain("openssl rand");
    const noKeys = failure({ AIRTABLE_CLIENT_ID: "c", AIRLOCK_SECRET_KEY: REAL.AIRLOCK_SECRET_KEY });
    expect(noKeys.message).toContain("AIRLOCK_ENCRYPTION_KEYS");
    expect(noKeys.hint).toContain("openssl rand -base64 32");
  });

  it.each([
    "aaaaaaaaaaaaaaaa",
    "abababababababab",
    "passwordpassword",
    "secretsecretsecretsecret",
    "0123456789abcdef",
    "1234567890123456",
    "abcdefghijklmnopqrstuvwxyz",
    "aaaaaaaabbbbbbbbccccccccdddddddd",
    "sk_live_aaaaaaaaaaaaaaaaaaaaaaaa",
    "sk_0123456789abcdef0123",
    "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ",
    "1111111111111111111111111111111111111111",
  ])("refuses the low-entropy secret key %j, with the generate command", (key) => {
    expect(estimateKeyBits(key)).toBeLessThan(MIN_SECRET_KEY_BITS);
    const error = failure({ ...REAL, AIRLOCK_SECRET_KEY: key });
    expect(error.code).toBe("config_invalid");
    expect(error.message).toContain("AIRLOCK_SECRET_KEY");
    expect(error.message).toMatch(/guess/);
    expect(`${error.message} ${error.hint}`).not.toContain(key);
    expect(error.hint).toContain("openssl rand -hex 32");
  });

  it("refuses low entropy in demo mode too (a key set by hand)", () => {
    expect(failure({ AIRLOCK_SECRET_KEY: "aaaaaaaaaaaaaaaa" }).hint).toContain("openssl rand -hex 32");
  });

  it("accepts generated keys: openssl rand -hex 32 / -base64 32, the demo's and the tests' keys", () => {
    for (let i = 0; i < 2000; i++) {
      for (const key of [
        randomBytes(32).toString("hex"),
        randomBytes(16).toString("hex"),
        randomBytes(32).toString("base64"),
        randomBytes(12).toString("base64"),
        `sk_demo_${randomToken(24)}`,
        `sk_test_${randomBytes(16).toString("hex")}`,
        randomBytes(24).toString("hex"),
      ]) {
        expect(estimateKeyBits(key), key).toBeGreaterThanOrEqual(MIN_SECRET_KEY_BITS);
      }
    }
    const key = randomBytes(32).toString("hex");
    expect(readServiceConfig({ ...REAL, AIRLOCK_SECRET_KEY: key }).secretKey).toBe(key);
    // Surrounding whitespace is trimmed before the check, as before.
    expect(readServiceConfig({ ...REAL, AIRLOCK_SECRET_KEY: ` ${key}\n` }).secretKey).toBe(key);
  });

  it("estimates bits from the character classes, distinct characters, repeats and runs", () => {
    expect(estimateKeyBits("")).toBe(0);
    expect(estimateKeyBits("a".repeat(64))).toBeLessThan(5);
    // A repeated block is worth one block.
    expect(estimateKeyBits("k3Y9!qZ2".repeat(4))).toBeCloseTo(estimateKeyBits("k3Y9!qZ2"), 5);
    // More character classes, more bits per character.
    expect(estimateKeyBits("k3y9!qz2m7")).toBeGreaterThan(estimateKeyBits("k3y9wqz2m7"));
    expect(estimateKeyBits("k3y9wqz2m7")).toBeGreaterThan(estimateKeyBits("kpyxwqzsmt"));
  });

  it("refuses the classic wrong endpoints", () => {
    const error = failure({ ...REAL, AIRTABLE_OAUTH_URL: "https://oauth2.googleapis.com/token" });
    expect(error.message).toContain("AIRTABLE_OAUTH_URL");
    expect(error.message).toContain("Google");
  });

  it("never echoes key material in its errors", () => {
    const key = Buffer.alloc(10, 9).toString("base64");
    const error = failure({ AIRLOCK_ENCRYPTION_KEYS: `k1:${key}` });
    expect(`${error.message} ${error.hint}`).not.toContain(key);
  });
});

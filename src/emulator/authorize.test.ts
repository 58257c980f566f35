import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONSENT_FIELDS, DECISION_PATH } from "./consent-page.js";
import { type RunningEmulator, startEmulator } from "./index.js";
import { api, authorizeUrl, pkcePair, postToken, visit } from "./testing.js";

const REDIRECT = "http://localhost:8085/callback";
const STATE = "state-0123456789abcdef";

let emulator: RunningEmulator;
let auto: RunningEmulator;
beforeAll(async () => {
  emulator = await startEmulator({
    redirectUris: [REDIRECT, "http://127.0.0.1:9999/cb"],
    scopes: ["data.records:read", "schema.bases:read", "user.email:read"],
  });
  auto = await startEmulator({ autoApprove: true });
});
afterAll(async () => {
  await emulator.close();
  await auto.close();
});

function url(params: Record<string, string | null>) {
  return authorizeUrl(emulator.url, { code_challenge: pkcePair().challenge, ...params });
}

function expectRedirectError(location: URL | undefined, error: string, state: string | null = STATE) {
  expect(location).toBeDefined();
  expect(`${location!.origin}${location!.pathname}`).toBe(REDIRECT);
  expect(location!.searchParams.get("error")).toBe(error);
  expect(location!.searchParams.get("error_description")).toBeTruthy();
  expect(location!.searchParams.get("state")).toBe(state);
  expect(location!.searchParams.has("code")).toBe(false);
}

/** Opens the consent page and returns the request id from its form. */
async function consentRequestId(params: Record<string, string | null> = {}): Promise<string> {
  const page = await visit(url(params));
  expect(page.status).toBe(200);
  const id = new RegExp(`name="${CONSENT_FIELDS.requestId}" value="([^"]+)"`).exec(page.body)?.[1];
  expect(id).toBeTruthy();
  return id!;
}

async function decide(form: [string, string][]) {
  const res = await fetch(new URL(DECISION_PATH, emulator.url), {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form),
  });
  const location = res.headers.get("location");
  return { status: res.status, location: location ? new URL(location) : undefined, body: await res.text() };
}

describe("client_id / redirect_uri mismatch: an error page, never a redirect", () => {
  it.each([
    ["unknown client_id", { client_id: "someone-else" }],
    ["missing client_id", { client_id: null }],
    ["missing redirect_uri", { redirect_uri: null }],
    ["trailing slash differs", { redirect_uri: `${REDIRECT}/` }],
    ["port differs", { redirect_uri: "http://localhost:8086/callback" }],
    ["host differs (127.0.0.1 vs localhost)", { redirect_uri: "http://127.0.0.1:8085/callback" }],
    ["scheme differs", { redirect_uri: "https://localhost:8085/callback" }],
  ])("%s", async (_name, params) => {
    const { status, location, body } = await visit(url(params));
    expect(status).toBe(400);
    expect(location).toBeUndefined();
    expect(body).toContain("<h1>");
  });

  it("a duplicated redirect_uri is an error page too", async () => {
    const { status, location } = await visit(`${url({})}&redirect_uri=${encodeURIComponent(REDIRECT)}`);
    expect(status).toBe(400);
    expect(location).toBeUndefined();
  });

  it("any registered URI is accepted", async () => {
    const { status } = await visit(url({ redirect_uri: "http://127.0.0.1:9999/cb" }));
    expect(status).toBe(200);
  });
});

describe("parameter errors redirect back with error, error_description and state", () => {
  it("response_type other than code → unsupported_response_type", async () => {
    expectRedirectError((await visit(url({ response_type: "token" }))).location, "unsupported_response_type");
  });

  it.each([
    ["missing response_type", { response_type: null }],
    ["missing code_challenge", { code_challenge: null }],
    ["malformed code_challenge", { code_challenge: "short" }],
    ["code_challenge_method plain", { code_challenge_method: "plain" }],
    ["missing code_challenge_method", { code_challenge_method: null }],
  ])("%s → invalid_request", async (_name, params) => {
    expectRedirectError((await visit(url(params))).location, "invalid_request");
  });

  it.each([
    ["15 characters", "a".repeat(15)],
    ["1025 characters", "a".repeat(1025)],
    ["a ~", "abcdefghijklmnop~"],
    ["a space", "abcdefgh ijklmnop"],
  ])("state with %s → invalid_request (state echoed)", async (_name, state) => {
    expectRedirectError((await visit(url({ state }))).location, "invalid_request", state);
  });

  it("missing state → invalid_request", async () => {
    expectRedirectError((await visit(url({ state: null }))).location, "invalid_request", null);
  });

  it("a parameter sent twice → invalid_request", async () => {
    expectRedirectError((await visit(`${url({})}&scope=data.records%3Aread`)).location, "invalid_request");
  });

  it.each([
    ["empty", ""],
    ["unknown", "webhook.manage"],
    ["not enabled on the integration", "data.records:write"],
    ["duplicated", "data.records:read data.records:read"],
  ])("scope %s → invalid_scope", async (_name, scope) => {
    expectRedirectError((await visit(url({ scope }))).location, "invalid_scope");
  });

  it("missing scope → invalid_scope", async () => {
    expectRedirectError((await visit(url({ scope: null }))).location, "invalid_scope");
  });
});

describe("the consent page", () => {
  it("shows the integration, the scopes in words, the user's bases, Allow and Deny", async () => {
    const page = await visit(url({}));
    expect(page.status).toBe(200);
    expect(page.body).toContain("Airlock Emulator Integration");
    expect(page.body).toContain("See the data in records");
    expect(page.body).toContain("Product Roadmap");
    expect(page.body).toContain("Customer CRM");
    expect(page.body).toContain(`name="${CONSENT_FIELDS.allBases}"`);
    expect(page.body).toContain('value="allow"');
    expect(page.body).toContain('value="deny"');
  });

  it("Deny → access_denied redirect with state", async () => {
    const id = await consentRequestId();
    const { status, location } = await decide([
      [CONSENT_FIELDS.requestId, id],
      [CONSENT_FIELDS.decision, "deny"],
    ]);
    expect(status).toBe(302);
    expectRedirectError(location, "access_denied");
  });

  it("Allow → code, state, code_challenge, code_challenge_method; the token reaches only the chosen base", async () => {
    const { verifier, challenge } = pkcePair();
    const id = await consentRequestId({ code_challenge: challenge });
    const before = emulator.stats().authorizations;
    const chosen = /name="bases" value="(app[A-Za-z0-9]{14})"/.exec((await visit(url({}))).body)![1]!;
    const { status, location } = await decide([
      [CONSENT_FIELDS.requestId, id],
      [CONSENT_FIELDS.bases, chosen],
      [CONSENT_FIELDS.decision, "allow"],
    ]);
    expect(status).toBe(302);
    expect(location!.searchParams.get("state")).toBe(STATE);
    expect(location!.searchParams.get("code_challenge")).toBe(challenge);
    expect(location!.searchParams.get("code_challenge_method")).toBe("S256");
    expect(emulator.stats().authorizations).toBe(before + 1);
    const exchange = await postToken(emulator.url, {
      grant_type: "authorization_code",
      code: location!.searchParams.get("code")!,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
      client_id: "airlock-emulator-client",
    });
    expect(exchange.status).toBe(200);
    const bases = await api(emulator.url, "/v0/meta/bases", exchange.json.access_token as string);
    expect((bases.json.bases as { id: string }[]).map((b) => b.id)).toEqual([chosen]);
  });

  it("all current and future bases grants every base", async () => {
    const { verifier, challenge } = pkcePair();
    const id = await consentRequestId({ code_challenge: challenge });
    const { location } = await decide([
      [CONSENT_FIELDS.requestId, id],
      [CONSENT_FIELDS.allBases, "1"],
      [CONSENT_FIELDS.decision, "allow"],
    ]);
    const exchange = await postToken(emulator.url, {
      grant_type: "authorization_code",
      code: location!.searchParams.get("code")!,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
      client_id: "airlock-emulator-client",
    });
    const bases = await api(emulator.url, "/v0/meta/bases", exchange.json.access_token as string);
    expect((bases.json.bases as unknown[]).length).toBe(3);
  });

  it("Allow without any base re-asks; the request stays answerable", async () => {
    const id = await consentRequestId();
    const again = await decide([
      [CONSENT_FIELDS.requestId, id],
      [CONSENT_FIELDS.decision, "allow"],
    ]);
    expect(again.status).toBe(400);
    expect(again.location).toBeUndefined();
    expect(again.body).toContain("Choose at least one base");
    const denied = await decide([
      [CONSENT_FIELDS.requestId, id],
      [CONSENT_FIELDS.decision, "deny"],
    ]);
    expect(denied.status).toBe(302);
  });

  it("a consent answered twice, unknown, or older than an hour is an error page", async () => {
    const id = await consentRequestId();
    await decide([
      [CONSENT_FIELDS.requestId, id],
      [CONSENT_FIELDS.decision, "deny"],
    ]);
    const twice = await decide([
      [CONSENT_FIELDS.requestId, id],
      [CONSENT_FIELDS.decision, "deny"],
    ]);
    expect(twice.status).toBe(400);
    expect(twice.location).toBeUndefined();
    const unknown = await decide([[CONSENT_FIELDS.requestId, "nope"]]);
    expect(unknown.status).toBe(400);
    const stale = await consentRequestId();
    emulator.advanceClock(3601);
    const late = await decide([
      [CONSENT_FIELDS.requestId, stale],
      [CONSENT_FIELDS.decision, "deny"],
    ]);
    expect(late.status).toBe(400);
    expect(late.location).toBeUndefined();
  });
});

describe("autoApprove", () => {
  it("redirects straight back with a code for everything requested", async () => {
    const { challenge } = pkcePair();
    const { status, location } = await visit(authorizeUrl(auto.url, { code_challenge: challenge }));
    expect(status).toBe(302);
    expect(location!.searchParams.get("code")).toBeTruthy();
    expect(location!.searchParams.get("state")).toBe(STATE);
    expect(auto.stats().authorizations).toBe(1);
  });

  it("still refuses bad parameters", async () => {
    const { location } = await visit(
      authorizeUrl(auto.url, { code_challenge: pkcePair().challenge, state: "short" }),
    );
    expect(location!.searchParams.get("error")).toBe("invalid_request");
  });
});

/**
 * Several OAuth integrations on one emulator (option `integrations`): each has its own client
 * authentication, redirect URIs, scope ceiling, name, grants, tokens and webhooks.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { isAirlockError } from "../shared/errors.js";
import { createEmulatorApp } from "./app.js";
import { type EmulatorOptions, resolveConfig } from "./config.js";
import { type RunningEmulator, startEmulator } from "./index.js";
import { createSampleData } from "./sample-data.js";
import { api, authorizeUrl, loginAutoApproved, pkcePair, postToken, visit } from "./testing.js";

const A = { clientId: "app-a", secret: "secret-a", redirectUri: "http://localhost:8085/callback" };
const B = { clientId: "app-b", redirectUri: "http://localhost:9000/cb" };
const BASIC_A = `Basic ${Buffer.from(`${A.clientId}:${A.secret}`).toString("base64")}`;
const SCOPE = "data.records:read schema.bases:read webhook:manage";

/** A confidential integration (top-level fields) and a public one (`integrations`). */
const TWO: EmulatorOptions = {
  autoApprove: true,
  accessTokenTtl: 10 * 365 * 86_400,
  clientId: A.clientId,
  clientSecret: A.secret,
  integrationName: "App A",
  integrations: [
    {
      clientId: B.clientId,
      redirectUris: [B.redirectUri],
      scopes: ["data.records:read", "schema.bases:read", "webhook:manage", "user.email:read"],
      name: "App B",
    },
  ],
};

const loginA = (url: string, scope = SCOPE) =>
  loginAutoApproved(url, scope, { clientId: A.clientId, redirectUri: A.redirectUri, basic: BASIC_A });
const loginB = (url: string, scope = SCOPE) =>
  loginAutoApproved(url, scope, { clientId: B.clientId, redirectUri: B.redirectUri });
const refreshA = (url: string, refresh_token: string) =>
  postToken(url, { grant_type: "refresh_token", refresh_token }, { authorization: BASIC_A });
const refreshB = (url: string, refresh_token: string) =>
  postToken(url, { grant_type: "refresh_token", refresh_token, client_id: B.clientId });

/** A code issued to `client` (auto-approved), with its verifier. */
async function codeFor(url: string, client: { clientId: string; redirectUri: string }) {
  const { verifier, challenge } = pkcePair();
  const { location } = await visit(
    authorizeUrl(url, {
      client_id: client.clientId,
      redirect_uri: client.redirectUri,
      scope: "data.records:read",
      code_challenge: challenge,
    }),
  );
  const code = location?.searchParams.get("code");
  if (!code) throw new Error(`no code: ${location}`);
  return { code, verifier };
}

function configError(options: EmulatorOptions): { message: string; hint: string } {
  try {
    resolveConfig(options);
  } catch (err) {
    if (isAirlockError(err, "config_invalid")) return { message: err.message, hint: err.hint ?? "" };
    throw err;
  }
  throw new Error("expected a config_invalid error");
}

describe("two integrations on one emulator", () => {
  let emulator: RunningEmulator;
  beforeAll(async () => {
    emulator = await startEmulator(TWO);
  });
  afterAll(() => emulator.close());

  it.each([
    ["confidential app-a", loginA, refreshA],
    ["public app-b", loginB, refreshB],
  ])("%s: authorize → token → refresh → whoami", async (_name, login, refresh) => {
    const tokens = await login(emulator.url);
    expect(tokens.scope).toBe(SCOPE);
    const refreshed = await refresh(emulator.url, tokens.refresh_token);
    expect(refreshed.status).toBe(200);
    const whoami = await api(emulator.url, "/v0/meta/whoami", String(refreshed.json.access_token));
    expect(whoami.status).toBe(200);
    expect(whoami.json.scopes).toEqual(SCOPE.split(" "));
    // The rotation retired the first access token.
    expect((await api(emulator.url, "/v0/meta/whoami", tokens.access_token)).status).toBe(401);
  });

  it("each client authenticates the way its own registration says", async () => {
    const forB = await codeFor(emulator.url, B);
    const basicOnPublic = await postToken(
      emulator.url,
      {
        grant_type: "authorization_code",
        code: forB.code,
        redirect_uri: B.redirectUri,
        code_verifier: forB.verifier,
        client_id: B.clientId,
      },
      { authorization: `Basic ${Buffer.from(`${B.clientId}:x`).toString("base64")}` },
    );
    expect(basicOnPublic).toMatchObject({ status: 401, json: { error: "invalid_client" } });
    const forA = await codeFor(emulator.url, A);
    const noBasicOnConfidential = await postToken(emulator.url, {
      grant_type: "authorization_code",
      code: forA.code,
      redirect_uri: A.redirectUri,
      code_verifier: forA.verifier,
      client_id: A.clientId,
    });
    expect(noBasicOnConfidential).toMatchObject({ status: 401, json: { error: "invalid_client" } });
    const unknown = await postToken(emulator.url, {
      grant_type: "refresh_token",
      refresh_token: "x",
      client_id: "app-c",
    });
    expect(unknown).toMatchObject({ status: 401, json: { error: "invalid_client" } });
  });

  it("a code issued to app-a cannot be exchanged by app-b (invalid_grant), and stays used", async () => {
    const { code, verifier } = await codeFor(emulator.url, A);
    const exchange = { grant_type: "authorization_code", code, code_verifier: verifier };
    const byB = await postToken(emulator.url, {
      ...exchange,
      redirect_uri: A.redirectUri,
      client_id: B.clientId,
    });
    expect(byB).toMatchObject({ status: 400, json: { error: "invalid_grant" } });
    expect(String(byB.json.error_description)).toContain("another client_id");
    const byA = await postToken(
      emulator.url,
      { ...exchange, redirect_uri: A.redirectUri },
      { authorization: BASIC_A },
    );
    expect(byA).toMatchObject({ status: 400, json: { error: "invalid_grant" } });
  });

  it("a refresh token of app-a refreshed with app-b's credentials fails (invalid_grant) and changes nothing", async () => {
    const a = await loginA(emulator.url);
    const byB = await refreshB(emulator.url, a.refresh_token);
    expect(byB).toMatchObject({ status: 400, json: { error: "invalid_grant" } });
    expect((await api(emulator.url, "/v0/meta/whoami", a.access_token)).status).toBe(200);
    expect((await refreshA(emulator.url, a.refresh_token)).status).toBe(200);
    const b = await loginB(emulator.url);
    expect(await refreshA(emulator.url, b.refresh_token)).toMatchObject({
      status: 400,
      json: { error: "invalid_grant" },
    });
  });

  it("redirect URIs and the scope ceiling are the integration's own", async () => {
    // app-b's redirect URI is not registered on app-a: an error page, never a redirect.
    const wrongUri = await visit(
      authorizeUrl(emulator.url, { client_id: A.clientId, redirect_uri: B.redirectUri }),
    );
    expect(wrongUri.status).toBe(400);
    expect(wrongUri.location).toBeUndefined();
    // block:manage is not enabled on app-b; app-a has every basic scope (the default).
    await expect(loginB(emulator.url, "block:manage")).rejects.toThrow(/invalid_scope/);
    expect((await loginA(emulator.url, "block:manage")).scope).toBe("block:manage");
  });

  it("control API: grants carry their client_id; scopes can be disabled per integration", async () => {
    const control = (path: string, init?: RequestInit) =>
      fetch(`${emulator.url}/__emulator${path}`, init).then(
        (r) => r.json() as Promise<Record<string, unknown>>,
      );
    const b = await loginB(emulator.url, "data.records:read schema.bases:read");
    const found = await control("/grants/find", {
      method: "POST",
      body: JSON.stringify({ token: b.access_token }),
    });
    expect(found.client_id).toBe(B.clientId);
    const listed = (await control(`/grants?client_id=${B.clientId}`)).grants as { client_id: string }[];
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.every((g) => g.client_id === B.clientId)).toBe(true);
    const a = await loginA(emulator.url, "data.records:read schema.bases:read");
    const disabled = await control("/scopes", {
      method: "POST",
      body: JSON.stringify({ client_id: B.clientId, scopes: ["data.records:read"] }),
    });
    expect(disabled).toEqual({ client_id: B.clientId, scopes: ["data.records:read"] });
    expect((await api(emulator.url, "/v0/meta/whoami", b.access_token)).json.scopes).toEqual([
      "data.records:read",
    ]);
    expect((await api(emulator.url, "/v0/meta/whoami", a.access_token)).json.scopes).toEqual([
      "data.records:read",
      "schema.bases:read",
    ]);
    expect((await control(`/scopes?client_id=${A.clientId}`)).client_id).toBe(A.clientId);
    expect(await control("/scopes?client_id=nobody")).toMatchObject({ error: "not_found" });
    await control("/scopes", {
      method: "POST",
      body: JSON.stringify({ client_id: B.clientId, scopes: TWO.integrations![0]!.scopes }),
    });
  });
});

describe("the consent page names the integration asking", () => {
  it.each([
    [A.clientId, A.redirectUri, "App A"],
    [B.clientId, B.redirectUri, "App B"],
  ])("%s", async (clientId, redirectUri, name) => {
    const { app } = createEmulatorApp({ ...TWO, autoApprove: false });
    const res = await app.request(
      authorizeUrl("http://emulator.test", {
        client_id: clientId,
        redirect_uri: redirectUri,
        code_challenge: pkcePair().challenge,
      }),
    );
    expect(res.status).toBe(200);
    expect(await res.text()).toContain(`${name} wants to access your Airtable account`);
  });
});

it("the front page lists every client id", async () => {
  const { app } = createEmulatorApp(TWO);
  const text = await (await app.request("/")).text();
  expect(text).toContain("Client id <code>app-a</code>; also hosts <code>app-b</code>.");
});

describe("webhooks are per integration", () => {
  const base = createSampleData().bases[0]!;
  const spec = { options: { filters: { dataTypes: ["tableData"], recordChangeScope: base.tables[0]!.id } } };
  let emulator: RunningEmulator;
  beforeAll(async () => {
    emulator = await startEmulator(TWO);
  });
  afterAll(() => emulator.close());

  async function hooks(method: string, token: string) {
    emulator.advanceClock(1); // clear of the per-base rate limit
    const res = await fetch(`${emulator.url}/v0/bases/${base.id}/webhooks`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(method === "POST" ? { body: JSON.stringify({ specification: spec }) } : {}),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }

  it("2 per base for each integration; each lists only its own", async () => {
    const a = (await loginA(emulator.url)).access_token;
    const b = (await loginB(emulator.url)).access_token;
    for (const token of [a, a]) expect((await hooks("POST", token)).status).toBe(200);
    const third = await hooks("POST", a);
    expect(third).toMatchObject({
      status: 422,
      json: { error: { type: "TOO_MANY_WEBHOOKS_BY_OAUTH_INTEGRATION_IN_BASE" } },
    });
    for (const token of [b, b]) expect((await hooks("POST", token)).status).toBe(200);
    expect((await hooks("POST", b)).status).toBe(422);
    const listedA = (await hooks("GET", a)).json.webhooks as { id: string }[];
    const listedB = (await hooks("GET", b)).json.webhooks as { id: string }[];
    expect(listedA).toHaveLength(2);
    expect(listedB).toHaveLength(2);
    expect(listedA.some((w) => listedB.some((v) => v.id === w.id))).toBe(false);
  });
});

describe("config validation of integrations", () => {
  it.each<[string, EmulatorOptions, string[]]>([
    ["a missing client id", { integrations: [{} as { clientId: string }] }, ["integrations[0].clientId"]],
    [
      "a duplicate of the first client id",
      { integrations: [{ clientId: "airlock-emulator-client" }] },
      ["integrations[0].clientId", "already used"],
    ],
    [
      "two entries with one client id",
      { integrations: [{ clientId: "x" }, { clientId: "x" }] },
      ["integrations[1].clientId", '"x"'],
    ],
    [
      "a bad redirect URI",
      { integrations: [{ clientId: "x", redirectUris: ["http://example.com/cb"] }] },
      ["integrations[0].redirectUris", 'client id "x"', "https"],
    ],
    [
      "an unknown scope",
      { integrations: [{ clientId: "x", scopes: ["webhook.manage"] }] },
      ["integrations[0].scopes", 'client id "x"', "webhook.manage"],
    ],
    [
      "an empty secret",
      { integrations: [{ clientId: "x", clientSecret: "" }] },
      ["integrations[0].clientSecret"],
    ],
    ["an empty name", { integrations: [{ clientId: "x", name: " " }] }, ["integrations[0].name"]],
    ["not an array", { integrations: {} as [] }, ["integrations", "array"]],
  ])("%s is refused, naming the entry", (_what, options, parts) => {
    const { message, hint } = configError(options);
    for (const part of parts) expect(message).toContain(part);
    expect(hint.length).toBeGreaterThan(0);
  });

  it("top-level fields describe the first integration; integrations add more", () => {
    const config = resolveConfig({ clientId: "a", integrations: [{ clientId: "b", clientSecret: "s" }] });
    expect(config.integrations.map((i) => [i.clientId, i.clientSecret, i.name])).toEqual([
      ["a", undefined, "Airlock Emulator Integration"],
      ["b", "s", "b"],
    ]);
    expect(config.clientId).toBe("a");
    expect(resolveConfig().integrations).toHaveLength(1);
  });
});

describe("state file with several integrations", () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "airlock-emulator-integrations-"));
    file = join(dir, "state.json");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("round trip: both integrations' tokens survive a restart, still bound to their client", async () => {
    const first = await startEmulator({ ...TWO, stateFile: file });
    const a = await loginA(first.url);
    const b = await loginB(first.url);
    await fetch(`${first.url}/__emulator/scopes`, {
      method: "POST",
      body: JSON.stringify({ client_id: B.clientId, scopes: ["data.records:read", "webhook:manage"] }),
    });
    await first.close();
    const saved = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    expect(saved.client_id).toBe(A.clientId);
    expect((saved.integrations as { client_id: string }[]).map((i) => i.client_id)).toEqual([
      A.clientId,
      B.clientId,
    ]);

    const second = await startEmulator({ ...TWO, stateFile: file });
    try {
      expect((await api(second.url, "/v0/meta/whoami", a.access_token)).status).toBe(200);
      const whoamiB = await api(second.url, "/v0/meta/whoami", b.access_token);
      // app-b's disabled scope stayed disabled; app-a's scopes are untouched.
      expect(whoamiB.json.scopes).toEqual(["data.records:read", "webhook:manage"]);
      expect((await api(second.url, "/v0/meta/whoami", a.access_token)).json.scopes).toEqual(
        SCOPE.split(" "),
      );
      expect((await refreshA(second.url, b.refresh_token)).json.error).toBe("invalid_grant");
      expect((await refreshB(second.url, b.refresh_token)).status).toBe(200);
      expect((await refreshA(second.url, a.refresh_token)).status).toBe(200);
    } finally {
      await second.close();
    }
  });

  it("a file holding grants of an integration no longer configured is refused, naming it", async () => {
    const first = await startEmulator({ ...TWO, stateFile: file });
    await loginB(first.url);
    await first.close();
    await expect(
      startEmulator({ autoApprove: true, clientId: A.clientId, clientSecret: A.secret, stateFile: file }),
    ).rejects.toSatisfy(
      (e) =>
        isAirlockError(e, "config_invalid") &&
        e.message.includes(B.clientId) &&
        e.hint.includes("integrations"),
    );
  });

  it("an older file (one client_id, grants without client_id) still loads, its grants of that client", async () => {
    const first = await startEmulator({ autoApprove: true, stateFile: file });
    const tokens = await loginAutoApproved(first.url, "data.records:read");
    await first.close();
    const saved = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    delete saved.integrations;
    for (const grant of saved.grants as Record<string, unknown>[]) delete grant.client_id;
    writeFileSync(file, JSON.stringify(saved));

    const second = await startEmulator({
      autoApprove: true,
      stateFile: file,
      integrations: [{ clientId: B.clientId, redirectUris: [B.redirectUri] }],
    });
    try {
      expect((await api(second.url, "/v0/meta/whoami", tokens.access_token)).status).toBe(200);
      const other = await refreshB(second.url, tokens.refresh_token);
      expect(other.json.error).toBe("invalid_grant");
      const own = await postToken(second.url, {
        grant_type: "refresh_token",
        refresh_token: tokens.refresh_token,
        client_id: "airlock-emulator-client",
      });
      expect(own.status).toBe(200);
    } finally {
      await second.close();
    }
  });
});

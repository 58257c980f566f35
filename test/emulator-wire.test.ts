/**
 * An independent client of the emulator's OAuth server, written without any project code: it spawns
 * the real `airlock emulator` CLI and speaks to it with raw fetch, URLSearchParams and node:crypto,
 * checking the answers Airtable documents. Needs `npm run build` first (npm test does it).
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const CLI = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
const REDIRECT = "http://localhost:8123/oauth/callback";
const SCOPE = "data.records:read schema.bases:read user.email:read";

interface Spawned {
  child: ChildProcessWithoutNullStreams;
  url: string;
  exited: Promise<number | null>;
}

/** Spawns `airlock emulator …` and waits for its single "listening on URL" stdout line. */
async function spawnEmulator(args: string[]): Promise<Spawned> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first.`);
  const child = spawn(process.execPath, [CLI, "emulator", "--port", "0", ...args], { stdio: "pipe" });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      const match = /^Airtable emulator listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(stdout);
      if (match) resolve(match[1]!);
    });
    void exited.then((code) => reject(new Error(`emulator exited early (${code}): ${stderr}`)));
  });
  return { child, url, exited };
}

function pkce() {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

async function authorize(base: string, clientId: string, overrides: Record<string, string> = {}) {
  const { verifier, challenge } = pkce();
  const state = randomBytes(16).toString("hex");
  const query = new URLSearchParams({
    client_id: clientId,
    redirect_uri: REDIRECT,
    response_type: "code",
    scope: SCOPE,
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
    ...overrides,
  });
  const res = await fetch(`${base}/oauth2/v1/authorize?${query}`, { redirect: "manual" });
  const location = res.headers.get("location");
  return { res, location: location ? new URL(location) : undefined, verifier, challenge, state };
}

async function token(base: string, body: URLSearchParams | string, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}/oauth2/v1/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function whoami(base: string, accessToken: string) {
  const res = await fetch(`${base}/v0/meta/whoami`, { headers: { authorization: `Bearer ${accessToken}` } });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe("the real `airlock emulator` process, public client", () => {
  const CLIENT = "wire-public-client";
  let emulator: Spawned;

  beforeAll(async () => {
    emulator = await spawnEmulator(["--client-id", CLIENT, "--redirect-uri", REDIRECT, "--auto-approve"]);
  });
  afterAll(async () => {
    if (emulator.child.exitCode === null) emulator.child.kill("SIGKILL");
  });

  async function login() {
    const { location, verifier } = await authorize(emulator.url, CLIENT);
    const code = location!.searchParams.get("code")!;
    const { status, json } = await token(
      emulator.url,
      new URLSearchParams({
        grant_type: "authorization_code",
        code,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
        client_id: CLIENT,
      }),
    );
    expect(status).toBe(200);
    return json as { access_token: string; refresh_token: string };
  }

  const refresh = (refreshToken: string) =>
    token(
      emulator.url,
      new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken, client_id: CLIENT }),
    );

  it("authorize redirects straight back with code, state and the challenge", async () => {
    const { res, location, state, challenge } = await authorize(emulator.url, CLIENT);
    expect(res.status).toBe(302);
    expect(`${location!.origin}${location!.pathname}`).toBe(REDIRECT);
    expect(location!.searchParams.get("code")).toMatch(/.+/);
    expect(location!.searchParams.get("state")).toBe(state);
    expect(location!.searchParams.get("code_challenge")).toBe(challenge);
    expect(location!.searchParams.get("code_challenge_method")).toBe("S256");
  });

  it("a redirect_uri that differs by a trailing slash gets an error page, not a redirect", async () => {
    const { res, location } = await authorize(emulator.url, CLIENT, { redirect_uri: `${REDIRECT}/` });
    expect(res.status).toBe(400);
    expect(location).toBeUndefined();
    expect(res.headers.get("content-type")).toContain("text/html");
  });

  it("a bad state comes back as error=invalid_request with the state", async () => {
    const { location } = await authorize(emulator.url, CLIENT, { state: "too-short" });
    expect(location!.searchParams.get("error")).toBe("invalid_request");
    expect(location!.searchParams.get("state")).toBe("too-short");
  });

  it("exchanges a code for the documented token response; the code then fails as invalid_grant", async () => {
    const { location, verifier } = await authorize(emulator.url, CLIENT);
    const body = new URLSearchParams({
      grant_type: "authorization_code",
      code: location!.searchParams.get("code")!,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
      client_id: CLIENT,
    });
    const first = await token(emulator.url, body);
    expect(first.status).toBe(200);
    expect(first.json).toEqual({
      access_token: expect.any(String),
      refresh_token: expect.any(String),
      token_type: "Bearer",
      scope: SCOPE,
      expires_in: 3600,
      refresh_expires_in: 5184000,
    });
    const reuse = await token(emulator.url, body);
    expect(reuse.status).toBe(400);
    expect(reuse.json).toEqual({ error: "invalid_grant", error_description: expect.any(String) });
  });

  it("refresh rotates; the old refresh token then fails and takes the whole grant with it", async () => {
    const first = await login();
    const second = await refresh(first.refresh_token);
    expect(second.status).toBe(200);
    expect(second.json.refresh_token).not.toBe(first.refresh_token);
    expect((await whoami(emulator.url, first.access_token)).status).toBe(401);
    const newAccess = second.json.access_token as string;
    expect((await whoami(emulator.url, newAccess)).json).toMatchObject({
      scopes: SCOPE.split(" "),
      email: expect.any(String),
    });

    const reuse = await refresh(first.refresh_token);
    expect(reuse).toEqual({
      status: 400,
      json: { error: "invalid_grant", error_description: expect.any(String) },
    });
    expect((await whoami(emulator.url, newAccess)).status).toBe(401);
    expect((await refresh(second.json.refresh_token as string)).json.error).toBe("invalid_grant");
  });

  it("a JSON body is invalid_request", async () => {
    const res = await fetch(`${emulator.url}/oauth2/v1/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ grant_type: "refresh_token", refresh_token: "x", client_id: CLIENT }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe("invalid_request");
  });

  it("Basic auth on a public client is 401 invalid_client", async () => {
    const { status, json } = await token(
      emulator.url,
      new URLSearchParams({ grant_type: "refresh_token", refresh_token: "x", client_id: CLIENT }),
      { authorization: `Basic ${Buffer.from(`${CLIENT}:anything`).toString("base64")}` },
    );
    expect(status).toBe(401);
    expect(json.error).toBe("invalid_client");
  });

  it("a parameter sent twice is invalid_request; an unknown grant type is unsupported_grant_type", async () => {
    const twice = await token(
      emulator.url,
      `grant_type=refresh_token&refresh_token=a&refresh_token=b&client_id=${CLIENT}`,
    );
    expect(twice.json.error).toBe("invalid_request");
    const unknown = await token(
      emulator.url,
      new URLSearchParams({ grant_type: "client_credentials", client_id: CLIENT }),
    );
    expect(unknown.json.error).toBe("unsupported_grant_type");
  });

  it("after the clock moves 61 minutes the access token is refused and a refresh works", async () => {
    const tokens = await login();
    const clock = await fetch(`${emulator.url}/__emulator/clock`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ advance_seconds: 61 * 60 }),
    });
    expect(clock.status).toBe(200);
    expect(await whoami(emulator.url, tokens.access_token)).toEqual({
      status: 401,
      json: { error: { type: "AUTHENTICATION_REQUIRED", message: expect.any(String) } },
    });
    expect((await refresh(tokens.refresh_token)).status).toBe(200);
    const stats = (await (await fetch(`${emulator.url}/__emulator/stats`)).json()) as Record<string, number>;
    expect(stats.refreshes).toBeGreaterThanOrEqual(2);
    expect(stats.invalid_grants).toBeGreaterThanOrEqual(3);
    expect(stats.invalid_clients).toBeGreaterThanOrEqual(1);
  });

  it("SIGTERM stops it cleanly with exit code 0", async () => {
    emulator.child.kill("SIGTERM");
    expect(await emulator.exited).toBe(0);
  });
});

describe("the real `airlock emulator` process, confidential client", () => {
  const CLIENT = "wire-confidential-client";
  const SECRET = "wire-secret?>>";
  let emulator: Spawned;

  beforeAll(async () => {
    emulator = await spawnEmulator([
      "--client-id",
      CLIENT,
      "--client-secret",
      SECRET,
      "--redirect-uri",
      REDIRECT,
      "--auto-approve",
    ]);
  });
  afterAll(async () => {
    emulator.child.kill("SIGINT");
    expect(await emulator.exited).toBe(0);
  });

  it("requires Basic auth and accepts both base64 and base64url", async () => {
    for (const encoding of ["base64", "base64url"] as const) {
      const { location, verifier } = await authorize(emulator.url, CLIENT);
      const body = new URLSearchParams({
        grant_type: "authorization_code",
        code: location!.searchParams.get("code")!,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
      });
      const withoutBasic = await token(emulator.url, body);
      expect(withoutBasic).toEqual({
        status: 401,
        json: { error: "invalid_client", error_description: expect.any(String) },
      });
      // That failed request consumed the code: single use even on failure.
      const basic = `Basic ${Buffer.from(`${CLIENT}:${SECRET}`).toString(encoding)}`;
      expect((await token(emulator.url, body, { authorization: basic })).json.error).toBe("invalid_grant");
      const again = await authorize(emulator.url, CLIENT);
      body.set("code", again.location!.searchParams.get("code")!);
      body.set("code_verifier", again.verifier);
      const ok = await token(emulator.url, body, { authorization: basic });
      expect(ok.status).toBe(200);
    }
  });
});

/**
 * Acceptance: the real `airlock login` (a separate process) against the emulator, three ways:
 * auto-approve, the consent form submitted over HTTP, and --paste.
 */
import { stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  approveAutomatically,
  cliTestbed,
  emulatorStats,
  findLeak,
  listenOn,
  loginAutomatically,
  readCredentials,
  runCli,
  secrets,
  setup,
  startCli,
  submitConsent,
  transcript,
} from "./support/cli.js";

const s = cliTestbed();

async function whoamiWith(token: string): Promise<{ id: string; email?: string }> {
  const response = await fetch(`${s.emulator.url}/v0/meta/whoami`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { id: string; email?: string };
}

describe("airlock login", () => {
  it("logs in with --no-browser: prints the URL, catches the redirect, stores 0600 credentials", async () => {
    const home = join(s.home, "nested", "airlock");
    const env = { ...s.env, AIRLOCK_HOME: home };
    const cli = startCli(["login", "--no-browser"], { env });
    const authorizeUrl = await cli.authorizeUrl();
    expect(authorizeUrl.searchParams.get("redirect_uri")).toBe(s.redirectUri);
    expect(authorizeUrl.searchParams.get("code_challenge_method")).toBe("S256");

    const callback = await approveAutomatically(authorizeUrl);
    expect(callback.origin + callback.pathname).toBe(s.redirectUri);
    const page = await fetch(callback);
    const html = await page.text();
    transcript.push(html);
    expect(page.status).toBe(200);
    expect(html).toContain("Airlock is logged in");

    const result = await cli.done;
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("Logged in as ada.lovelace@example.com");

    const credentials = await readCredentials(home);
    expect(credentials).toMatchObject({
      clientId: "cli-acceptance-client",
      email: "ada.lovelace@example.com",
    });
    expect(credentials.userId).toMatch(/^usr/);
    expect((await stat(join(home, "credentials-default.json"))).mode & 0o777).toBe(0o600);
    expect((await stat(home)).mode & 0o777).toBe(0o700);
    expect(await emulatorStats(s.emulator)).toMatchObject({ authorizations: 1, code_exchanges: 1 });

    const token = await runCli(["token"], { env });
    expect(token.code).toBe(0);
    expect(token.stdout).toBe(`${credentials.accessToken}\n`);
    expect(token.stderr).toBe("");
    expect((await whoamiWith(token.stdout.trim())).id).toBe(credentials.userId);
  });

  it("opens the browser (the `open` package → xdg-open → $BROWSER) and still prints the URL", async () => {
    // A stand-in browser: follows the emulator's redirect to the CLI's callback, like a real one.
    const browser = join(s.home, "fake-browser.mjs");
    await writeFile(
      browser,
      `#!${process.execPath}\nconst r = await fetch(process.argv[2]);\nawait r.text();\n`,
      { mode: 0o755 },
    );
    const result = await runCli(["login"], { env: { ...s.env, BROWSER: browser } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/http:\/\/127\.0\.0\.1:\d+\/oauth2\/v1\/authorize\?/);
    expect(result.stderr).toContain("Logged in as ada.lovelace@example.com");
    await readCredentials(s.home);
  });

  it("logs in by submitting the emulator's consent form (Allow), granting only the ticked bases", async () => {
    await s.renew({ autoApprove: false });
    const cli = startCli(["login", "--no-browser", "--scopes", "schema.bases:read user.email:read"], {
      env: s.env,
    });
    const authorizeUrl = await cli.authorizeUrl();
    expect(authorizeUrl.searchParams.get("scope")).toBe("schema.bases:read user.email:read");

    // Untick the first base, as a user would, then press the allow button.
    const page = await fetch(authorizeUrl);
    const html = await page.text();
    const firstBase = /name="bases" value="(app[A-Za-z0-9]{14})"/.exec(html)?.[1];
    expect(firstBase).toBeDefined();
    const callback = await submitConsent(authorizeUrl, /grant|allow/i, (fields) =>
      fields.filter(([name, value]) => !(name === "bases" && value === firstBase)),
    );
    const done = await fetch(callback);
    transcript.push(await done.text());
    expect(done.status).toBe(200);
    expect((await cli.done).code).toBe(0);

    const bases = await runCli(["bases", "--json"], { env: s.env });
    expect(bases.code).toBe(0);
    const ids = (JSON.parse(bases.stdout) as { bases: { id: string }[] }).bases.map((b) => b.id);
    expect(ids.length).toBeGreaterThan(0);
    expect(ids).not.toContain(firstBase);
    const credentials = await readCredentials(s.home);
    expect(credentials.scopes).toEqual(["schema.bases:read", "user.email:read"]);
  });

  it("logs in with --paste from the redirected URL on stdin, without opening a port", async () => {
    // Hold the callback port: --paste must not need it.
    const blocker = await listenOn(s.port);
    try {
      const cli = startCli(["login", "--paste"], { env: s.env });
      const callback = await approveAutomatically(await cli.authorizeUrl());
      await cli.waitForStderr(/paste it here/i);
      cli.child.stdin.end(`  ${callback.href}  \n`);
      const result = await cli.done;
      expect(result.code).toBe(0);
      expect(result.stderr).toContain("Logged in as ada.lovelace@example.com");
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
    expect((await readCredentials(s.home)).email).toBe("ada.lovelace@example.com");
  });

  it("accepts just the query string in --paste mode", async () => {
    const cli = startCli(["login", "--paste", "--profile", "work"], { env: s.env });
    const callback = await approveAutomatically(await cli.authorizeUrl());
    cli.child.stdin.end(`${callback.search}\n`);
    expect((await cli.done).code).toBe(0);
    expect((await readCredentials(s.home, "work")).profile).toBe("work");
  });

  it("reuses valid credentials unless --force", async () => {
    expect((await loginAutomatically(s)).code).toBe(0);
    const again = await runCli(["login", "--no-browser"], { env: s.env });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("Already logged in as ada.lovelace@example.com");
    expect(again.stderr).not.toContain("/oauth2/v1/authorize");
    expect((await emulatorStats(s.emulator)).authorizations).toBe(1);

    // A scope the stored login lacks is a reason to log in again.
    const wider = startCli(["login", "--no-browser", "--scopes", "data.records:write"], { env: s.env });
    await wider.authorizeUrl();
    wider.interrupt();
    expect((await wider.done).code).toBe(130);

    expect((await loginAutomatically(s, ["--force"])).code).toBe(0);
    expect((await emulatorStats(s.emulator)).code_exchanges).toBe(2);
  });

  it("listens on --port N and sends the redirect URI with that port", async () => {
    const other = await setup();
    try {
      // The integration registers only the --port URI; AIRTABLE_REDIRECT_URI names another port.
      const env = { ...other.env, AIRTABLE_REDIRECT_URI: "http://localhost:1/callback" };
      const cli = startCli(["login", "--no-browser", "--port", String(other.port)], { env });
      const authorizeUrl = await cli.authorizeUrl();
      expect(authorizeUrl.searchParams.get("redirect_uri")).toBe(other.redirectUri);
      expect(cli.stderr).toContain("must be registered with the integration exactly");
      const done = await fetch(await approveAutomatically(authorizeUrl));
      transcript.push(await done.text());
      expect((await cli.done).code).toBe(0);
      expect((await readCredentials(other.home)).redirectUri).toBe(other.redirectUri);
    } finally {
      await other.cleanup();
    }
  });

  it("logs in as a confidential client without ever printing the secret", async () => {
    const secret = "emulator-client-secret-value-0123456789";
    const confidential = await setup({ secret });
    try {
      expect((await loginAutomatically(confidential)).code).toBe(0);
      const credentials = await readCredentials(confidential.home);
      expect(credentials.usesClientSecret).toBe(true);
      expect(JSON.stringify(credentials)).not.toContain(secret);
      const status = await runCli(["status", "--json"], { env: confidential.env });
      expect(JSON.parse(status.stdout)).toMatchObject({ uses_client_secret: true, status: "active" });
    } finally {
      await confidential.cleanup();
    }
    expect(secrets.has(secret)).toBe(true);
  });
});

describe("the leak check itself", () => {
  it("finds a printed verifier by its S256 challenge, and known secrets verbatim", async () => {
    const { computeCodeChallenge, generateCodeVerifier } = await import("../src/airtable/pkce.js");
    const verifier = generateCodeVerifier();
    const url = `https://x/oauth2/v1/authorize?code_challenge=${computeCodeChallenge(verifier)}`;
    expect(findLeak([url], new Set())).toBeNull();
    expect(findLeak([url, `debug: ${verifier}`], new Set())).toMatch(/code_verifier/);
    expect(findLeak([url, `x${verifier}y`], new Set())).toMatch(/code_verifier/);
    expect(findLeak(["token abc123"], new Set(["abc123"]))).toMatch(/secret/);
  });
});

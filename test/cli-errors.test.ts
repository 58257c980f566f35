/**
 * Acceptance: the login's error paths and the command line's usage errors, each as a real process.
 */
import { describe, expect, it } from "vitest";
import {
  approveAutomatically,
  cliTestbed,
  emulatorStats,
  freePort,
  listenOn,
  readCredentials,
  runCli,
  startCli,
  submitConsent,
  transcript,
} from "./support/cli.js";

const s = cliTestbed();

async function page(url: URL | string, init?: RequestInit): Promise<{ status: number; body: string }> {
  const response = await fetch(url, init);
  const body = await response.text();
  transcript.push(body);
  return { status: response.status, body };
}

describe("airlock login error paths", () => {
  it("a busy callback port is a clear error naming the port and the redirect URI", async () => {
    const blocker = await listenOn(s.port);
    try {
      const result = await runCli(["login", "--no-browser"], { env: s.env });
      expect(result.code).toBe(5);
      expect(result.stderr).toContain(`Port ${s.port}`);
      expect(result.stderr).toContain(s.redirectUri);
      expect(result.stderr).toContain("--port N");
      // It failed before sending anyone to Airtable.
      expect(result.stderr).not.toContain("/oauth2/v1/authorize");
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it("a callback with the wrong state fails the login, shows a failure page, exchanges nothing", async () => {
    const cli = startCli(["login", "--no-browser"], { env: s.env });
    await cli.authorizeUrl();
    const forged = await page(`${s.redirectUri}?code=forged-code&state=${"x".repeat(32)}`);
    expect(forged.status).toBe(400);
    expect(forged.body).toContain("could not log in");
    const result = await cli.done;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/state does not match/);
    expect((await emulatorStats(s.emulator)).code_exchanges).toBe(0);
  });

  it("Deny on the consent page → access_denied, explained", async () => {
    await s.renew({ autoApprove: false });
    const cli = startCli(["login", "--no-browser"], { env: s.env });
    const callback = await submitConsent(await cli.authorizeUrl(), /cancel|deny/i);
    expect(callback.searchParams.get("error")).toBe("access_denied");
    const denied = await page(callback);
    expect(denied.status).toBe(400);
    expect(denied.body).toContain("access_denied");
    const result = await cli.done;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("access_denied");
    expect(result.stderr).toMatch(/clicked Deny/);
  });

  it("times out with a message that explains the likely mismatch", async () => {
    const result = await runCli(["login", "--no-browser", "--timeout", "1"], { env: s.env });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(`No redirect reached ${s.redirectUri} within 1 second`);
    expect(result.stderr).toContain(`register exactly ${s.redirectUri}`);
    // The port is free again.
    const again = await listenOn(s.port);
    await new Promise((resolve) => again.close(resolve));
  });

  it("ignores stray requests (favicon, other paths, other methods) and still completes", async () => {
    const cli = startCli(["login", "--no-browser"], { env: s.env });
    const authorizeUrl = await cli.authorizeUrl();
    const base = `http://127.0.0.1:${s.port}`;
    expect((await page(`${base}/favicon.ico`)).status).toBe(404);
    expect((await page(`${base}/`)).status).toBe(404);
    expect((await page(`${base}/callback/extra?code=x&state=y`)).status).toBe(404);
    expect((await page(`${base}/callback`, { method: "POST", body: "code=x" })).status).toBe(404);

    const done = await page(await approveAutomatically(authorizeUrl));
    expect(done.status).toBe(200);
    expect((await cli.done).code).toBe(0);
    expect((await readCredentials(s.home)).email).toBe("ada.lovelace@example.com");
  });

  it("Ctrl-C exits 130 and frees the port", async () => {
    const cli = startCli(["login", "--no-browser"], { env: s.env });
    await cli.authorizeUrl();
    cli.interrupt();
    const result = await cli.done;
    expect(result.code).toBe(130);
    expect(result.stderr).toContain("Interrupted");
    const again = await listenOn(s.port);
    await new Promise((resolve) => again.close(resolve));
  });

  it("--paste with nothing pasted is a clear error", async () => {
    const result = await runCli(["login", "--paste"], { env: s.env, stdin: "" });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("No redirected URL was pasted");
  });

  it("--paste with a URL of another login (wrong state) is rejected", async () => {
    const result = await runCli(["login", "--paste"], {
      env: s.env,
      stdin: `${s.redirectUri}?code=abc&state=${"y".repeat(20)}\n`,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/state does not match/);
  });

  it("configuration errors name the setting", async () => {
    const { AIRTABLE_CLIENT_ID: _id, ...noClient } = s.env;
    const missing = await runCli(["login", "--no-browser"], { env: noClient });
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain("AIRTABLE_CLIENT_ID is not set");

    const remote = await runCli(["login", "--no-browser"], {
      env: { ...s.env, AIRTABLE_REDIRECT_URI: "https://app.example.com/oauth/callback" },
    });
    expect(remote.code).toBe(5);
    expect(remote.stderr).toContain("--paste");
  });
});

describe("command line usage", () => {
  it("--help lists the commands and documents the exit codes", async () => {
    const help = await runCli(["--help"], { env: s.env });
    expect(help.code).toBe(0);
    for (const text of [
      "login",
      "token",
      "status",
      "doctor",
      "emulator",
      "Exit codes",
      "130",
      "not logged in",
    ]) {
      expect(help.stdout).toContain(text);
    }
    const bare = await runCli([], { env: s.env });
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain("Usage: airlock");
    const loginHelp = await runCli(["login", "--help"], { env: s.env });
    expect(loginHelp.stdout).toContain("--paste");
    expect((await runCli(["help", "token"], { env: s.env })).stdout).toContain("Usage: airlock token");
  });

  it("--version prints the package version", async () => {
    const result = await runCli(["--version"], { env: s.env });
    expect(result).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+/) });
  });

  it.each([
    [["bogus"], /Unknown command "bogus"/],
    [["login", "--bogus"], /Unknown flag --bogus/],
    [["login", "--port", "abc"], /--port must be a whole number/],
    [["login", "--port", "70000"], /--port must be between 1 and 65535/],
    [["login", "--timeout"], /Flag --timeout needs a value/],
    [["login", "--force=yes"], /--force does not take a value/],
    [["login", "--scopes", "webhook.manage"], /webhook:manage/],
    [["token", "extra"], /Unexpected argument "extra"/],
    [["status", "--profile", "../etc"], /Invalid profile name[\s\S]*--profile work/],
    [["tables"], /Missing BASE_ID/],
  ])("airlock %j → exit 2 with the fix", async (args, message) => {
    const result = await runCli(args, { env: s.env });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(message);
    // Every usage error says how to fix it: the command's help, or the exact rule.
    expect(result.stderr).toMatch(/--help|--profile work/);
  });
});

describe("airlock emulator (dispatch)", () => {
  it("starts the emulator as a process", async () => {
    const port = await freePort();
    const cli = startCli(["emulator", "--port", String(port), "--auto-approve"], { env: s.env });
    try {
      let status = 0;
      for (let i = 0; i < 100 && status !== 200; i++) {
        status = await fetch(`http://127.0.0.1:${port}/__emulator/stats`)
          .then((r) => r.status)
          .catch(() => 0);
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe(200);
    } finally {
      cli.child.kill("SIGTERM");
      await cli.done;
    }
  });
});

/**
 * Acceptance: `airlock token` refreshes after 61 minutes passed (the emulator's clock moved, the
 * stored credentials aged by as much: `letTimePass`); 8 concurrent processes refresh exactly once;
 * a dead grant asks for a new login.
 */
import { copyFile, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import {
  armEmulatorFaults,
  cliTestbed,
  emulatorStats,
  letTimePass,
  loginAutomatically,
  readCredentials,
  runCli,
  startCli,
} from "./support/cli.js";

/** 61 minutes, in seconds: the 60-minute access token has expired. */
const LATER = 61 * 60;

const s = cliTestbed({ per: "manual" });

async function apiStatus(token: string): Promise<number> {
  const response = await fetch(`${s.emulator.url}/v0/meta/whoami`, {
    headers: { authorization: `Bearer ${token}` },
  });
  await response.body?.cancel();
  return response.status;
}

describe("airlock token", () => {
  beforeEach(async () => {
    // Token endpoint latency widens the window in which concurrent refreshes could overlap.
    await s.renew({ latencyMs: 150 });
    expect((await loginAutomatically(s)).code).toBe(0);
  });

  it("prints the stored token while it is fresh, without calling Airtable", async () => {
    const before = await readCredentials(s.home);
    const result = await runCli(["token"], { env: s.env });
    expect(result).toMatchObject({ code: 0, stdout: `${before.accessToken}\n`, stderr: "" });
    expect((await emulatorStats(s.emulator)).refreshes).toBe(0);
  });

  it("refreshes after 61 minutes, saves the rotated tokens, and the new token works", async () => {
    const before = await readCredentials(s.home);
    await letTimePass(s, LATER);

    const result = await runCli(["token"], { env: s.env });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    const token = result.stdout.trim();
    expect(result.stdout).toBe(`${token}\n`);
    expect(token).not.toBe(before.accessToken);

    expect((await emulatorStats(s.emulator)).refreshes).toBe(1);
    const after = await readCredentials(s.home);
    expect(after.accessToken).toBe(token);
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(await apiStatus(token)).toBe(200);
    expect(await apiStatus(before.accessToken as string)).toBe(401);

    // whoami uses the new token without another refresh.
    const whoami = await runCli(["whoami", "--json"], { env: s.env });
    expect(whoami.code).toBe(0);
    expect(JSON.parse(whoami.stdout)).toMatchObject({ id: after.userId, email: "ada.lovelace@example.com" });
    expect((await emulatorStats(s.emulator)).refreshes).toBe(1);
  });

  it("8 concurrent processes after expiry refresh exactly once and print the same token", async () => {
    const before = await readCredentials(s.home);
    await letTimePass(s, LATER);

    const results = await Promise.all(
      Array.from({ length: 8 }, () => startCli(["token"], { env: s.env }).done),
    );
    for (const result of results) expect(result.code, result.stderr).toBe(0);
    const printed = new Set(results.map((r) => r.stdout));
    expect(printed.size).toBe(1);
    const after = await readCredentials(s.home);
    expect([...printed][0]).toBe(`${after.accessToken}\n`);
    expect(after.accessToken).not.toBe(before.accessToken);
    const stats = await emulatorStats(s.emulator);
    expect(stats.refreshes).toBe(1);
    expect(stats.invalid_grants).toBe(0);
    expect(await apiStatus(after.accessToken as string)).toBe(200);
    // No lock file left behind.
    await expect(readFile(join(s.home, "credentials-default.json.lock"))).rejects.toMatchObject({
      code: "ENOENT",
    });
  });

  it("invalid_grant → exit 3 with 'run airlock login', and no further refresh attempts", async () => {
    const file = join(s.home, "credentials-default.json");
    const stale = join(s.home, "stale-copy.json");
    await letTimePass(s, LATER);
    await copyFile(file, stale);
    expect((await runCli(["token"], { env: s.env })).code).toBe(0);

    // Put back the rotated-away refresh token (e.g. a restored backup): Airtable answers invalid_grant.
    await writeFile(file, await readFile(stale), { mode: 0o600 });
    const dead = await runCli(["token"], { env: s.env });
    expect(dead.code).toBe(3);
    expect(dead.stdout).toBe("");
    expect(dead.stderr).toMatch(/run `airlock login/i);
    const grantsAfterFirst = (await emulatorStats(s.emulator)).invalid_grants;
    expect(grantsAfterFirst).toBe(1);

    // The dead grant is remembered: no second invalid refresh is sent.
    const again = await runCli(["token"], { env: s.env });
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/airlock login/);
    expect((await emulatorStats(s.emulator)).invalid_grants).toBe(grantsAfterFirst);
    const status = await runCli(["status", "--json"], { env: s.env });
    expect(status.code).toBe(3);
    expect(JSON.parse(status.stdout)).toMatchObject({ status: "reauth_required" });

    // A new login fixes it (no --force needed: dead credentials are never reused).
    expect((await loginAutomatically(s)).code).toBe(0);
    const fixed = await runCli(["token"], { env: s.env });
    expect(fixed.code).toBe(0);
    expect(await apiStatus(fixed.stdout.trim())).toBe(200);
  });

  it("a transient token-endpoint failure exits 4 and keeps the credentials", async () => {
    const before = await readCredentials(s.home);
    await letTimePass(s, LATER);
    expect(await armEmulatorFaults(s.emulator, { token: { status: 503, count: 1 } })).toBe(200);
    const failed = await runCli(["token"], { env: s.env });
    expect(failed.code).toBe(4);
    expect(failed.stdout).toBe("");
    expect(failed.stderr).toMatch(/503/);
    expect((await readCredentials(s.home)).refreshToken).toBe(before.refreshToken);

    const retried = await runCli(["token"], { env: s.env });
    expect(retried.code).toBe(0);
  });
});

describe("Ctrl-C during a refresh", () => {
  it("waits until the rotated refresh token is saved, so the login survives", async () => {
    // A slow token endpoint: the refresh is still in flight when Ctrl-C arrives and when main's
    // 2-second "leave anyway" timer fires.
    await s.renew({ latencyMs: 3000 });
    expect((await loginAutomatically(s)).code).toBe(0);
    const before = await readCredentials(s.home);
    await letTimePass(s, LATER);

    const cli = startCli(["token"], { env: s.env });
    const lock = join(s.home, "credentials-default.json.lock");
    for (let i = 0; i < 200; i++) {
      if (
        await readFile(lock).then(
          () => true,
          () => false,
        )
      )
        break;
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 200));
    cli.interrupt();
    const result = await cli.done;
    expect([0, 130]).toContain(result.code);

    const after = await readCredentials(s.home);
    expect((await emulatorStats(s.emulator)).refreshes).toBe(1);
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(await apiStatus(after.accessToken as string)).toBe(200);
    // The saved refresh token is the live one: the next run needs no refresh and nothing failed.
    const next = await runCli(["token"], { env: s.env });
    expect(next.stdout).toBe(`${after.accessToken}\n`);
    expect((await emulatorStats(s.emulator)).invalid_grants).toBe(0);
  });
});

describe("airlock token without a login", () => {
  it("exits 3 and says to run airlock login", async () => {
    await s.renew();
    const result = await runCli(["token"], { env: s.env });
    expect(result.code).toBe(3);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("Not logged in");
    expect(result.stderr).toContain("airlock login");
    const work = await runCli(["token", "--profile", "work"], { env: s.env });
    expect(work.stderr).toContain("airlock login --profile work");
  });
});

describe("airlock token for a confidential client", () => {
  it("refreshes with the secret from AIRTABLE_CLIENT_SECRET, and explains when it is missing", async () => {
    await s.renew({ secret: "confidential-secret-for-refresh-tests" });
    expect((await loginAutomatically(s)).code).toBe(0);
    await letTimePass(s, LATER);

    const { AIRTABLE_CLIENT_SECRET: _secret, ...withoutSecret } = s.env;
    const missing = await runCli(["token"], { env: withoutSecret });
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain("AIRTABLE_CLIENT_SECRET");
    expect((await emulatorStats(s.emulator)).refreshes).toBe(0);

    const result = await runCli(["token"], { env: s.env });
    expect(result.code).toBe(0);
    expect(await apiStatus(result.stdout.trim())).toBe(200);
    const stats = await emulatorStats(s.emulator);
    expect(stats).toMatchObject({ refreshes: 1, invalid_clients: 0 });
  });
});

describe("token command under concurrency with a fresh token", () => {
  it("fresh-token runs print the same token without refreshing", async () => {
    await s.renew();
    expect((await loginAutomatically(s)).code).toBe(0);
    const runs = await Promise.all(Array.from({ length: 4 }, () => startCli(["token"], { env: s.env }).done));
    expect(new Set(runs.map((r) => r.stdout)).size).toBe(1);
    expect((await emulatorStats(s.emulator)).refreshes).toBe(0);
  });
});

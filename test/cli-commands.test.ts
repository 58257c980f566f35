/**
 * Acceptance: status, whoami, bases, tables, logout and doctor as real processes against the emulator.
 */
import { access, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  ageCredentials,
  armEmulatorFaults,
  cliTestbed,
  emulatorStats,
  listenOn,
  loginAutomatically,
  readCredentials,
  runCli,
} from "./support/cli.js";

const s = cliTestbed({ per: "suite" });
let credentials: Record<string, unknown>;
beforeAll(async () => {
  expect((await loginAutomatically(s)).code).toBe(0);
  credentials = await readCredentials(s.home);
});

describe("airlock status", () => {
  it("shows user, email, scopes, relative expiries and the file, never a token", async () => {
    const result = await runCli(["status"], { env: s.env });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("ada.lovelace@example.com");
    expect(result.stdout).toContain(String(credentials.userId));
    expect(result.stdout).toMatch(/Access token:\s+expires in (59 minutes|1 hour)/);
    expect(result.stdout).toMatch(/Refresh token:\s+expires in (59|60) days/);
    expect(result.stdout).toContain(join(s.home, "credentials-default.json"));
    expect(result.stdout).toContain("data.records:read schema.bases:read user.email:read");
  });

  it("--json has the documented fields and no token", async () => {
    const result = await runCli(["status", "--json"], { env: s.env });
    const json = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(json).toMatchObject({
      profile: "default",
      logged_in: true,
      status: "active",
      email: "ada.lovelace@example.com",
      user_id: credentials.userId,
      access_token_expires_at: credentials.accessTokenExpiresAt,
    });
    expect(Object.keys(json).some((k) => /^(access|refresh)_token$/.test(k))).toBe(false);
  });

  it("after the access token expires, says the next token call refreshes", async () => {
    // A copy of the login, 61 minutes old, as another profile (the other tests keep the live one).
    const stored = JSON.parse(await readFile(join(s.home, "credentials-default.json"), "utf8")) as object;
    await writeFile(join(s.home, "credentials-old.json"), JSON.stringify({ ...stored, profile: "old" }), {
      mode: 0o600,
    });
    await ageCredentials(s.home, 61 * 60, "old");
    const result = await runCli(["status", "--profile", "old"], { env: s.env });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Access token:\s+expires \d+ minutes? ago/);
    expect(result.stdout).toContain("the next `airlock token` refreshes");
  });

  it("exits 3 for a profile that is not logged in", async () => {
    const result = await runCli(["status", "--profile", "nobody"], { env: s.env });
    expect(result.code).toBe(3);
    expect(result.stdout).toContain('Not logged in (profile "nobody")');
    expect(result.stderr).toContain("airlock login --profile nobody");
    const json = await runCli(["status", "--json", "--profile", "nobody"], { env: s.env });
    expect(JSON.parse(json.stdout)).toMatchObject({ logged_in: false, profile: "nobody" });
  });
});

describe("airlock whoami / bases / tables", () => {
  it("whoami shows the user", async () => {
    const result = await runCli(["whoami"], { env: s.env });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/User:\s+usr/);
    expect(result.stdout).toContain("ada.lovelace@example.com");
  });

  it("a 401 from the API forces one refresh (fenced on the rejected token) and one retry", async () => {
    const before = await emulatorStats(s.emulator);
    expect(await armEmulatorFaults(s.emulator, { api: { status: 401, count: 1 } })).toBe(200);
    const result = await runCli(["whoami", "--json"], { env: s.env });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ email: "ada.lovelace@example.com" });
    expect((await emulatorStats(s.emulator)).refreshes).toBe(before.refreshes! + 1);
    credentials = await readCredentials(s.home);
  });

  it("bases lists the granted bases as a table, or JSON", async () => {
    const table = await runCli(["bases"], { env: s.env });
    expect(table.code).toBe(0);
    expect(table.stdout.split("\n")[0]).toMatch(/^ID\s+NAME\s+PERMISSION$/);
    const json = JSON.parse((await runCli(["bases", "--json"], { env: s.env })).stdout) as {
      bases: { id: string; name: string }[];
    };
    expect(json.bases.length).toBeGreaterThanOrEqual(2);
    for (const base of json.bases) expect(table.stdout).toContain(base.id);
  });

  it("tables BASE_ID shows tables and fields; --json gives the schema", async () => {
    const { bases } = JSON.parse((await runCli(["bases", "--json"], { env: s.env })).stdout) as {
      bases: { id: string }[];
    };
    const baseId = bases[0]!.id;
    const human = await runCli(["tables", baseId], { env: s.env });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^tbl[A-Za-z0-9]{14} {2}.+\(\d+ fields, \d+ views\)$/m);
    expect(human.stdout).toContain("(primary)");
    const json = JSON.parse((await runCli(["tables", baseId, "--json"], { env: s.env })).stdout) as {
      tables: { id: string; fields: unknown[] }[];
    };
    expect(json.tables.length).toBeGreaterThan(0);
    expect(json.tables[0]!.fields.length).toBeGreaterThan(0);
  });

  it("tables with a malformed base id is a usage error; an unknown one is Airtable's 404/403", async () => {
    const bad = await runCli(["tables", "not-a-base"], { env: s.env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("is not an Airtable base id");
    const unknown = await runCli(["tables", "appAAAAAAAAAAAAAA"], { env: s.env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/HTTP 40[34]/);
  });
});

describe("airlock doctor", () => {
  it("passes with a good configuration, one line per check", async () => {
    const result = await runCli(["doctor"], { env: s.env });
    expect(result.code, result.stdout).toBe(0);
    const lines = result.stdout.split("\n").filter((l) => /^[✓!✗] /.test(l));
    expect(lines.length).toBeGreaterThanOrEqual(8);
    expect(result.stdout).toMatch(/✓ .*AIRTABLE_CLIENT_ID is set/);
    expect(result.stdout).toMatch(/✓ Token endpoint .* answers/);
    expect(result.stdout).toMatch(/✓ Web API .* answers/);
    expect(result.stdout).toMatch(/✓ Port \d+ on 127\.0\.0\.1 is free/);
    expect(result.stdout).toMatch(/✓ Logged in as ada\.lovelace@example\.com/);
    expect(result.stderr).toContain("All checks passed");
  });

  it("fails with ✗ lines and fixes for a broken configuration", async () => {
    const { AIRTABLE_CLIENT_ID: _id, ...env } = s.env;
    const blocker = await listenOn(s.port);
    try {
      const result = await runCli(["doctor"], {
        env: {
          ...env,
          AIRTABLE_SCOPES: "webhook.manage",
          AIRTABLE_OAUTH_URL: "https://oauth2.googleapis.com",
        },
      });
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/✗ AIRTABLE_CLIENT_ID is not set/);
      expect(result.stdout).toMatch(/✗ .*webhook\.manage/);
      expect(result.stdout).toMatch(/webhook:manage/);
      expect(result.stdout).toMatch(/✗ .*Google|✗ .*googleapis/);
      expect(result.stdout).toMatch(/✗ Port \d+ on 127\.0\.0\.1 is in use/);
      expect(result.stdout).toMatch(/ {4}→ /);
      expect(result.stderr).toMatch(/\d+ problems? to fix/);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it("reports an unreachable endpoint", async () => {
    const result = await runCli(["doctor"], { env: { ...s.env, AIRTABLE_API_URL: "http://127.0.0.1:9" } });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/✗ Web API http:\/\/127\.0\.0\.1:9\/v0\/meta\/whoami could not be reached/);
  });
});

describe("airlock logout", () => {
  it("deletes the file, explains revocation, and is idempotent", async () => {
    const path = join(s.home, "credentials-default.json");
    const result = await runCli(["logout"], { env: s.env });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`deleted ${path}`);
    expect(result.stderr).toMatch(/no revocation endpoint/);
    expect(result.stderr).toContain("https://airtable.com/account");
    await expect(access(path)).rejects.toMatchObject({ code: "ENOENT" });
    const again = await runCli(["logout"], { env: s.env });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("nothing to delete");
    expect((await runCli(["token"], { env: s.env })).code).toBe(3);
  });
});

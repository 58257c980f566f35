/**
 * `airlock status` as a real process, for credentials Airtable no longer accepts: it must not show
 * live-looking expiries ("expires in 59 minutes") for tokens that are dead, and must say what to do.
 * The credentials file is written directly (no clock tricks, no emulator needed).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileCredentialStore } from "../src/cli/credentials-file.js";
import { cliEnv, runCli } from "./support/cli.js";
import { storedCredentials } from "./support/credentials.js";

let home: string;
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "airlock-cli-status-"));
  env = cliEnv(home);
  const store = new FileCredentialStore(home);
  const now = new Date();
  // Refreshed a minute ago, then Airtable refused the next refresh: the grant is dead.
  await store.write(
    "default",
    storedCredentials({ now, accessExpiresInMs: 59.5 * 60_000 }, { reauthReason: "invalid_grant" }),
  );
  await store.write(
    "nb",
    storedCredentials(
      { now, accessExpiresInMs: 59.5 * 60_000 },
      { profile: "nb", reauthReason: "invalid_grant" },
    ),
  );
  await store.write(
    "live",
    storedCredentials({ now, accessExpiresInMs: 59.5 * 60_000 }, { profile: "live" }),
  );
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe("airlock status for credentials Airtable rejected", () => {
  it("shows the tokens as dead and says to log in again, with no live expiry", async () => {
    const result = await runCli(["status"], { env });
    expect(result.code).toBe(3);
    expect(result.stdout).not.toMatch(/expires in/);
    expect(result.stdout).toMatch(
      /Access token:\s+not usable: Airtable rejected the refresh token \(invalid_grant\)/,
    );
    expect(result.stdout).toMatch(/Refresh token:\s+not usable: run `airlock login` to get new tokens/);
  });

  it("names the profile in the command to run", async () => {
    const result = await runCli(["status", "--profile", "nb"], { env });
    expect(result.code).toBe(3);
    expect(result.stdout).toContain("airlock login --profile nb");
    expect(result.stdout).not.toMatch(/expires in/);
  });

  it("--json says the tokens are not usable", async () => {
    const result = await runCli(["status", "--json"], { env });
    expect(JSON.parse(result.stdout)).toMatchObject({
      status: "reauth_required",
      reauth_reason: "invalid_grant",
      tokens_usable: false,
    });
  });

  it("keeps showing live expiries for live credentials", async () => {
    const result = await runCli(["status", "--profile", "live"], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Access token:\s+expires in 59 minutes/);
    const json = await runCli(["status", "--json", "--profile", "live"], { env });
    expect(JSON.parse(json.stdout)).toMatchObject({ status: "active", tokens_usable: true });
  });
});

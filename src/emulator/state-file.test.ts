import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isAirlockError } from "../shared/errors.js";
import { type RunningEmulator, startEmulator } from "./index.js";
import { readStateFile, STATE_FILE_VERSION, type StateFile, StateFileWriter } from "./state-file.js";
import { api, loginAutoApproved, postToken } from "./testing.js";

const CLIENT_ID = "airlock-emulator-client";
const SCOPE = "data.records:read schema.bases:read user.email:read";

let dir: string;
let file: string;
const running: RunningEmulator[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "airlock-emulator-state-"));
  // A folder that does not exist yet: the emulator creates it (0700).
  file = join(dir, "nested", "emulator.json");
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.close()));
  rmSync(dir, { recursive: true, force: true });
});

async function start(options: Parameters<typeof startEmulator>[0] = {}): Promise<RunningEmulator> {
  const emulator = await startEmulator({ autoApprove: true, stateFile: file, ...options });
  running.push(emulator);
  return emulator;
}

async function stop(emulator: RunningEmulator): Promise<void> {
  running.splice(running.indexOf(emulator), 1);
  await emulator.close();
}

async function refresh(url: string, refreshToken: string) {
  return postToken(url, { grant_type: "refresh_token", refresh_token: refreshToken, client_id: CLIENT_ID });
}

const sha256 = (token: string) => createHash("sha256").update(token).digest("base64url");

describe("stateFile: tokens survive a restart", () => {
  it("keeps the last access and refresh tokens, reuse detection and the clock offset", async () => {
    const first = await start();
    const login = await loginAutoApproved(first.url, SCOPE);
    const rotated = await refresh(first.url, login.refresh_token);
    expect(rotated.status).toBe(200);
    const last = rotated.json as { access_token: string; refresh_token: string };
    first.advanceClock(120);
    // close() right away: the pending (coalesced) save is flushed, not lost.
    await stop(first);

    const text = readFileSync(file, "utf8");
    for (const token of [login.access_token, login.refresh_token, last.access_token, last.refresh_token]) {
      expect(text).not.toContain(token);
    }
    expect(text).toContain(sha256(last.refresh_token));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "nested")).mode & 0o777).toBe(0o700);
    expect(JSON.parse(text)).toMatchObject({ version: STATE_FILE_VERSION, client_id: CLIENT_ID });

    const second = await start();
    const clock = (await (await fetch(`${second.url}/__emulator/clock`)).json()) as {
      offset_seconds: number;
    };
    expect(clock.offset_seconds).toBe(120);
    const whoami = await api(second.url, "/v0/meta/whoami", last.access_token);
    expect(whoami.status).toBe(200);
    expect(whoami.json.scopes).toEqual(SCOPE.split(" "));
    // The access token replaced by the refresh stays dead.
    expect((await api(second.url, "/v0/meta/whoami", login.access_token)).status).toBe(401);

    const again = await refresh(second.url, last.refresh_token);
    expect(again.status).toBe(200);
    const newest = again.json as { access_token: string; refresh_token: string };
    expect((await api(second.url, "/v0/meta/whoami", newest.access_token)).status).toBe(200);

    // The token rotated away before the restart is still known as rotated: reuse kills the grant.
    const reused = await refresh(second.url, login.refresh_token);
    expect(reused).toMatchObject({ status: 400, json: { error: "invalid_grant" } });
    expect(String(reused.json.error_description)).toContain("already used");
    expect((await api(second.url, "/v0/meta/whoami", newest.access_token)).status).toBe(401);
    expect((await refresh(second.url, newest.refresh_token)).json.error).toBe("invalid_grant");
  });

  it("saves in the background after a change (no close needed) and a revocation survives", async () => {
    const first = await start();
    const login = await loginAutoApproved(first.url, SCOPE);
    await expect
      .poll(() => (existsSync(file) ? readFileSync(file, "utf8") : ""))
      .toContain(sha256(login.refresh_token));
    // A second emulator reading the file now (the first still running) honours the token.
    const reader = await start();
    expect((await api(reader.url, "/v0/meta/whoami", login.access_token)).status).toBe(200);
    await stop(reader);

    expect((await fetch(`${first.url}/__emulator/revoke`, { method: "POST" })).status).toBe(200);
    await stop(first);
    const second = await start();
    expect((await api(second.url, "/v0/meta/whoami", login.access_token)).status).toBe(401);
    expect((await refresh(second.url, login.refresh_token)).json.error).toBe("invalid_grant");
  });

  it("keeps enabled-scope changes, unless the registration's scopes changed at start", async () => {
    const first = await start();
    const login = await loginAutoApproved(first.url, SCOPE);
    const res = await fetch(`${first.url}/__emulator/scopes`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ scopes: ["data.records:read", "schema.bases:read"] }),
    });
    expect(res.status).toBe(200);
    await stop(first);

    const second = await start();
    const whoami = await api(second.url, "/v0/meta/whoami", login.access_token);
    expect(whoami.json.scopes).toEqual(["data.records:read", "schema.bases:read"]);
    expect(whoami.json.email).toBeUndefined();
    await stop(second);

    const third = await start({ scopes: ["data.records:read", "user.email:read"] });
    const scopes = (await (await fetch(`${third.url}/__emulator/scopes`)).json()) as { scopes: string[] };
    expect(scopes.scopes).toEqual(["data.records:read", "user.email:read"]);
    expect((await api(third.url, "/v0/meta/whoami", login.access_token)).json.scopes).toEqual([
      "data.records:read",
      "user.email:read",
    ]);
  });

  it("without stateFile nothing is written and a restart forgets the tokens", async () => {
    const first = await startEmulator({ autoApprove: true });
    const login = await loginAutoApproved(first.url, SCOPE);
    await first.close();
    const second = await startEmulator({ autoApprove: true });
    try {
      expect((await api(second.url, "/v0/meta/whoami", login.access_token)).status).toBe(401);
    } finally {
      await second.close();
    }
    expect(existsSync(join(dir, "nested"))).toBe(false);
  });
});

describe("stateFile: a bad file is a clear config_invalid error", () => {
  function writeRaw(text: string): void {
    writeFileSync(join(dir, "emulator.json"), text);
    file = join(dir, "emulator.json");
  }

  it.each([
    ["not JSON", "{not json", "not valid JSON"],
    ["an array", "[]", "expected a JSON object"],
    ["another version", JSON.stringify({ version: 99, grants: [] }), "incompatible version"],
    ["no version", JSON.stringify({ grants: [] }), "incompatible version"],
    [
      "a bad shape",
      JSON.stringify({
        version: STATE_FILE_VERSION,
        saved_at: "x",
        client_id: CLIENT_ID,
        clock_offset_ms: -5,
        registered_scopes: [],
        enabled_scopes: ["data.records:read"],
        grants: [],
      }),
      "clock_offset_ms",
    ],
  ])("%s", async (_name, text, problem) => {
    writeRaw(text);
    const error = await startEmulator({ stateFile: file }).then(
      (e) => e.close().then(() => undefined),
      (e: unknown) => e,
    );
    expect(isAirlockError(error, "config_invalid")).toBe(true);
    if (!isAirlockError(error)) return;
    expect(error.message).toContain(file);
    expect(error.message).toContain(problem);
    expect(error.hint).toContain(`Delete ${file}`);
    // The damaged file is left alone for the user to look at.
    expect(readFileSync(file, "utf8")).toBe(text);
  });

  it("a file of another client id is refused, naming both", async () => {
    const first = await start();
    await loginAutoApproved(first.url, SCOPE);
    await stop(first);
    await expect(start({ clientId: "someone-else" })).rejects.toSatisfy(
      (e) =>
        isAirlockError(e, "config_invalid") &&
        e.message.includes("airlock-emulator-client") &&
        e.message.includes("someone-else"),
    );
  });

  it("an unreadable path or an unwritable folder fails at start", async () => {
    file = dir; // a directory: EISDIR on read
    await expect(startEmulator({ stateFile: file })).rejects.toSatisfy(
      (e) => isAirlockError(e, "config_invalid") && e.message.includes("cannot be read"),
    );
    writeFileSync(join(dir, "plain"), "");
    file = join(dir, "plain", "state.json"); // its folder is a file
    await expect(startEmulator({ stateFile: file })).rejects.toSatisfy(
      (e) => isAirlockError(e, "config_invalid") && e.message.includes("cannot be read (ENOTDIR)"),
    );
    // Readable (absent) but not writable, even as root: the temp file's longer name exceeds NAME_MAX.
    file = join(dir, `${"s".repeat(250)}.json`);
    await expect(startEmulator({ stateFile: file })).rejects.toSatisfy(
      (e) => isAirlockError(e, "config_invalid") && e.message.includes("Cannot write") && e.hint.length > 0,
    );
  });
});

describe("StateFileWriter", () => {
  function snapshotCounter(): { calls: number; snapshot: () => StateFile } {
    const counter = {
      calls: 0,
      snapshot: (): StateFile => {
        counter.calls++;
        return {
          version: STATE_FILE_VERSION,
          saved_at: new Date().toISOString(),
          client_id: CLIENT_ID,
          clock_offset_ms: counter.calls,
          registered_scopes: ["data.records:read"],
          enabled_scopes: ["data.records:read"],
          grants: [],
        };
      },
    };
    return counter;
  }

  it("coalesces a burst of changes into one write, and save() writes at once", async () => {
    const counter = snapshotCounter();
    const writer = new StateFileWriter(file, counter.snapshot, 20);
    for (let i = 0; i < 500; i++) writer.schedule();
    expect(counter.calls).toBe(0); // nothing on the caller's path
    await expect.poll(() => existsSync(file)).toBe(true);
    await expect.poll(() => readStateFile(file)?.clock_offset_ms).toBe(1);
    expect(counter.calls).toBe(1);
    await writer.save();
    expect(counter.calls).toBe(2);
    expect(readStateFile(file)?.clock_offset_ms).toBe(2);
  });

  it("leaves no temp files behind", async () => {
    const writer = new StateFileWriter(file, snapshotCounter().snapshot, 5);
    await writer.save();
    writer.schedule();
    await writer.save();
    expect(readdirSync(join(dir, "nested"))).toEqual(["emulator.json"]);
  });

  it("readStateFile: a missing file is undefined", () => {
    expect(readStateFile(join(dir, "absent.json"))).toBeUndefined();
  });
});

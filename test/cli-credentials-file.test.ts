/**
 * Acceptance: the CLI's credentials file as real processes see it. An unwritable AIRLOCK_HOME stops
 * `airlock login` before anything is authorized; a refresh through a symlinked credentials file
 * keeps the link; a file other users can read is warned about once, and still works.
 */
import { chmod, lstat, mkdir, readFile, readlink, rename, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  cliTestbed,
  emulatorStats,
  loginAutomatically,
  readCredentials,
  runCli,
  secrets,
} from "./support/cli.js";
import { announceSkip } from "./support/skip.js";
import { mountSmallVolume, type SmallVolume, smallVolumeMissing } from "./support/small-volume.js";

const noMount = smallVolumeMissing();
announceSkip("mount", "airlock login on a read-only AIRLOCK_HOME (EROFS)", noMount);

const s = cliTestbed();
const volumes: SmallVolume[] = [];
// Runs before the testbed's cleanup (after-hooks run last-registered first).
afterEach(() => {
  for (const volume of volumes.splice(0)) volume.unmount();
});

/** Mounts a read-only tmpfs on a new folder under the test's home. */
async function readOnlyFolder(name: string): Promise<string> {
  const dir = join(s.home, name);
  await mkdir(dir);
  const volume = mountSmallVolume(1, { at: dir });
  volumes.push(volume);
  volume.remountReadOnly();
  return dir;
}

/** Makes the stored access token look expired, so the next `airlock token` refreshes (no fake clock). */
async function expireAccessToken(file: string): Promise<void> {
  const json = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
  json.accessTokenExpiresAt = new Date(Date.now() - 60_000).toISOString();
  await writeFile(file, JSON.stringify(json, null, 2));
}

describe("airlock login with an unwritable AIRLOCK_HOME", () => {
  async function expectRefusedBeforeAuthorizing(home: string, reason: RegExp, args: string[]) {
    const result = await runCli(["login", "--timeout", "5", ...args], {
      env: { ...s.env, AIRLOCK_HOME: home },
      stdin: "",
    });
    expect(result.code).toBe(5);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(home);
    expect(result.stderr).toMatch(reason);
    expect(result.stderr).toContain("AIRLOCK_HOME");
    expect(result.stderr).toContain("airlock login");
    // Refused before any authorize URL was shown or any code exchanged.
    expect(result.stderr).not.toContain("/oauth2/v1/authorize");
    expect(await emulatorStats(s.emulator)).toMatchObject({ authorizations: 0, code_exchanges: 0 });
  }

  it("a folder under a regular file (ENOTDIR) fails before the browser flow", async () => {
    await writeFile(join(s.home, "a-file"), "");
    await expectRefusedBeforeAuthorizing(join(s.home, "a-file", "airlock"), /ENOTDIR/, ["--no-browser"]);
  });

  it.skipIf(noMount !== undefined)(
    "a read-only folder (EROFS) fails before the loopback flow and before the paste prompt",
    async () => {
      const home = await readOnlyFolder("ro-home");
      await expectRefusedBeforeAuthorizing(home, /EROFS/, ["--no-browser"]);
      await expectRefusedBeforeAuthorizing(home, /EROFS/, ["--paste"]);
    },
  );
});

describe.skipIf(process.platform === "win32")("a symlinked credentials file", () => {
  it("`airlock token` refreshes through the link: the link stays, the target gets the rotated tokens", async () => {
    expect((await loginAutomatically(s)).code).toBe(0);
    const link = join(s.home, "credentials-default.json");
    const dotfiles = join(s.home, "dotfiles");
    await mkdir(dotfiles);
    const target = join(dotfiles, "airlock.json");
    await rename(link, target);
    await symlink(target, link);
    await expireAccessToken(target);
    const before = await readCredentials(s.home);

    const result = await runCli(["token"], { env: s.env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe("");
    const token = result.stdout.trim();
    secrets.add(token);
    expect(token).not.toBe(before.accessToken);
    expect((await emulatorStats(s.emulator)).refreshes).toBe(1);

    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toBe(target);
    const saved = JSON.parse(await readFile(target, "utf8")) as Record<string, unknown>;
    expect(saved.accessToken).toBe(token);
    expect(saved.refreshToken).not.toBe(before.refreshToken);
    secrets.add(saved.refreshToken as string);
    expect((await stat(target)).mode & 0o777).toBe(0o600);

    // The next command reads the new tokens through the link, without another refresh.
    const again = await runCli(["token"], { env: s.env });
    expect(again).toMatchObject({ code: 0, stdout: `${token}\n` });
    expect((await emulatorStats(s.emulator)).refreshes).toBe(1);
  });

  it("a dangling link is refused by `airlock login` before anything is authorized", async () => {
    const missing = join(s.home, "gone", "airlock.json");
    await symlink(missing, join(s.home, "credentials-default.json"));
    const result = await runCli(["login", "--no-browser", "--force", "--timeout", "5"], { env: s.env });
    expect(result.code).toBe(5);
    expect(result.stderr).toContain(missing);
    expect(result.stderr).toContain(join(s.home, "credentials-default.json"));
    expect(result.stderr).not.toContain("/oauth2/v1/authorize");
    expect(await emulatorStats(s.emulator)).toMatchObject({ authorizations: 0, code_exchanges: 0 });
  });
});

describe.skipIf(process.platform === "win32")("a credentials file other users can read", () => {
  it("`airlock token` and `airlock status` warn once on stderr, and still work", async () => {
    expect((await loginAutomatically(s)).code).toBe(0);
    const file = join(s.home, "credentials-default.json");
    await chmod(file, 0o644);
    const stored = await readCredentials(s.home);
    const warning = `warning: ${file} is readable by other users (mode 0644); run: chmod 600 ${file}`;

    const token = await runCli(["token"], { env: s.env });
    expect(token.code).toBe(0);
    expect(token.stdout).toBe(`${stored.accessToken}\n`);
    expect(token.stderr).toBe(`${warning}\n`);

    const status = await runCli(["status"], { env: s.env });
    expect(status.code).toBe(0);
    expect(status.stderr).toContain(warning);

    // A refresh reads the file twice (before and under the lock): still one warning. The rewrite is 0600.
    await expireAccessToken(file);
    const refreshed = await runCli(["token"], { env: s.env });
    expect(refreshed.code, refreshed.stderr).toBe(0);
    secrets.add(refreshed.stdout.trim());
    expect(refreshed.stderr).toBe(`${warning}\n`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    await readCredentials(s.home);
    expect((await runCli(["token"], { env: s.env })).stderr).toBe("");
  });
});

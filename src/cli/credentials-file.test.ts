import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { storedCredentials } from "../../test/support/credentials.js";
import { announceSkip } from "../../test/support/skip.js";
import { mountSmallVolume, type SmallVolume, smallVolumeMissing } from "../../test/support/small-volume.js";
import { isAirlockError } from "../shared/errors.js";
import {
  FileCredentialStore,
  resolveAirlockHome,
  type StoredCredentials,
  validateProfileName,
} from "./credentials-file.js";

const sample = (overrides: Partial<StoredCredentials> = {}) =>
  storedCredentials(
    { now: new Date("2026-01-01T00:00:00.000Z"), accessExpiresInMs: 3600_000 },
    { accessToken: "access-1", refreshToken: "refresh-1", email: "ada@example.com", ...overrides },
  );

describe("resolveAirlockHome", () => {
  it("prefers AIRLOCK_HOME", () => {
    expect(resolveAirlockHome({ AIRLOCK_HOME: "/x/y" }, "linux", "/home/ada")).toBe("/x/y");
  });
  it("uses XDG_CONFIG_HOME, else ~/.config, on Linux", () => {
    expect(resolveAirlockHome({ XDG_CONFIG_HOME: "/cfg" }, "linux", "/home/ada")).toBe("/cfg/airlock");
    expect(resolveAirlockHome({}, "linux", "/home/ada")).toBe("/home/ada/.config/airlock");
  });
  it("uses Application Support on macOS and APPDATA on Windows", () => {
    expect(resolveAirlockHome({}, "darwin", "/Users/ada")).toBe(
      "/Users/ada/Library/Application Support/airlock",
    );
    expect(resolveAirlockHome({ APPDATA: "/appdata" }, "win32", "/home/ada")).toBe(
      join("/appdata", "airlock"),
    );
  });
});

describe("validateProfileName", () => {
  it.each(["default", "work", "a.b-c_d", "X1"])("accepts %s", (name) => {
    expect(validateProfileName(name)).toBe(name);
  });
  it.each(["", "../etc", "a/b", ".hidden", "a b", "x".repeat(65)])("rejects %j", (name) => {
    expect(() => validateProfileName(name)).toThrowError(/Invalid profile name/);
  });
});

describe("FileCredentialStore", () => {
  let root: string;
  let store: FileCredentialStore;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "airlock-file-"));
    store = new FileCredentialStore(join(root, "home"));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("returns null for a profile that was never written", async () => {
    expect(await store.read("default")).toBeNull();
  });

  it("round-trips credentials, one file per profile", async () => {
    await store.write("default", sample());
    await store.write("work", sample({ profile: "work", email: "work@example.com" }));
    expect(await store.read("default")).toEqual(sample());
    expect((await store.read("work"))?.email).toBe("work@example.com");
    expect(store.path("work")).toBe(join(root, "home", "credentials-work.json"));
  });

  it.skipIf(process.platform === "win32")("creates the folder 0700 and the file 0600", async () => {
    await store.write("default", sample());
    expect((await stat(store.home)).mode & 0o777).toBe(0o700);
    expect((await stat(store.path("default"))).mode & 0o777).toBe(0o600);
  });

  it("replaces the file atomically and leaves no temp files behind", async () => {
    await store.write("default", sample());
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.write("default", sample({ accessToken: `access-${i}` }))),
    );
    const names = await readdir(store.home);
    expect(names).toEqual(["credentials-default.json"]);
    // Whatever write won, the file is complete and valid.
    expect((await store.read("default"))?.accessToken).toMatch(/^access-\d+$/);
  });

  it("reports a damaged file with the fix, without echoing its content", async () => {
    await store.ensureHome();
    await writeFile(store.path("default"), '{"accessToken":"secret-value"', { mode: 0o600 });
    const error = await store.read("default").catch((e: unknown) => e);
    expect(isAirlockError(error, "config_invalid")).toBe(true);
    expect(String((error as Error).message)).not.toContain("secret-value");
    expect((error as { hint: string }).hint).toContain("airlock login --force");
  });

  it("refuses to write something that is not valid credentials", async () => {
    await expect(store.write("default", { ...sample(), accessToken: "" })).rejects.toThrow();
    expect(await store.read("default")).toBeNull();
  });

  it("deletes a profile, and says false when there was none", async () => {
    await store.write("default", sample());
    expect(await store.delete("default")).toBe(true);
    expect(await store.delete("default")).toBe(false);
    expect(await store.read("default")).toBeNull();
  });

  it("reads files written before reauthReason existed", async () => {
    const { reauthReason: _omit, ...old } = sample();
    await store.ensureHome();
    await writeFile(store.path("default"), JSON.stringify(old), { mode: 0o600 });
    expect((await store.read("default"))?.reauthReason).toBeNull();
    expect(JSON.parse(await readFile(store.path("default"), "utf8")).accessToken).toBe("access-1");
  });
});

const posixOnly = it.skipIf(process.platform === "win32");
const isRoot = process.getuid?.() === 0;

/** The error a promise rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error & { code: string; hint: string }> {
  const error = await promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e,
  );
  return error as Error & { code: string; hint: string };
}

const noMount = smallVolumeMissing();
if (process.platform !== "win32") {
  announceSkip("mount", "FileCredentialStore on a read-only folder (EROFS)", noMount);
}

/** Mounts a read-only tmpfs on `dir` (after writing `seed` files into it), which root cannot write either. */
async function mountReadOnly(dir: string, seed: Record<string, string> = {}): Promise<SmallVolume> {
  const volume = mountSmallVolume(1, { at: dir });
  for (const [name, body] of Object.entries(seed)) await writeFile(join(dir, name), body);
  volume.remountReadOnly();
  return volume;
}

describe.skipIf(process.platform === "win32")(
  "FileCredentialStore: symlinks, permissions, writability",
  () => {
    let root: string;
    let home: string;
    let store: FileCredentialStore;
    const insecure: [string, number][] = [];
    const volumes: SmallVolume[] = [];

    beforeEach(async () => {
      root = await mkdtemp(join(tmpdir(), "airlock-file-"));
      home = join(root, "home");
      insecure.length = 0;
      store = new FileCredentialStore(home, { onInsecureMode: (path, mode) => insecure.push([path, mode]) });
      await store.ensureHome();
    });
    afterEach(async () => {
      for (const volume of volumes.splice(0)) volume.unmount();
      await chmod(root, 0o700).catch(() => undefined);
      await rm(root, { recursive: true, force: true });
    });

    /** A credentials file in another folder ("dotfiles"), linked from AIRLOCK_HOME. */
    async function linkedCredentials(): Promise<{ link: string; target: string }> {
      const dotfiles = join(root, "dotfiles");
      await mkdir(dotfiles);
      const target = join(dotfiles, "airlock-credentials.json");
      await writeFile(target, JSON.stringify(sample()), { mode: 0o600 });
      const link = store.path("default");
      await symlink(target, link);
      return { link, target };
    }

    it("writes through a symlink: the link stays a link and both paths read the new tokens", async () => {
      const { link, target } = await linkedCredentials();
      await store.write("default", sample({ accessToken: "access-2", refreshToken: "refresh-2" }));

      expect((await lstat(link)).isSymbolicLink()).toBe(true);
      expect(await readlink(link)).toBe(target);
      expect(JSON.parse(await readFile(target, "utf8")).refreshToken).toBe("refresh-2");
      expect((await store.read("default"))?.refreshToken).toBe("refresh-2");
      expect((await stat(target)).mode & 0o777).toBe(0o600);
      // No temp file left in either folder.
      expect(await readdir(home)).toEqual(["credentials-default.json"]);
      expect(await readdir(join(root, "dotfiles"))).toEqual(["airlock-credentials.json"]);
    });

    it("logout through a symlink deletes the tokens in the target, not only the link", async () => {
      const { link, target } = await linkedCredentials();
      expect(await store.delete("default")).toBe(true);
      await expect(lstat(link)).rejects.toThrow(/ENOENT/);
      await expect(lstat(target)).rejects.toThrow(/ENOENT/);
      expect(await store.delete("default")).toBe(false);
    });

    it("follows a chain of links (relative ones too) to the real file", async () => {
      const { target } = await linkedCredentials();
      const middle = join(root, "middle");
      await mkdir(middle);
      await rm(store.path("default"));
      await symlink("../dotfiles/airlock-credentials.json", join(middle, "hop.json"));
      await symlink(join(middle, "hop.json"), store.path("default"));

      await store.write("default", sample({ refreshToken: "refresh-3" }));

      expect((await lstat(store.path("default"))).isSymbolicLink()).toBe(true);
      expect((await lstat(join(middle, "hop.json"))).isSymbolicLink()).toBe(true);
      expect(JSON.parse(await readFile(target, "utf8")).refreshToken).toBe("refresh-3");
      expect((await store.read("default"))?.refreshToken).toBe("refresh-3");
      expect(await readdir(middle)).toEqual(["hop.json"]);
    });

    it("refuses a dangling link, naming both paths, and leaves the link alone", async () => {
      const missing = join(root, "gone", "airlock-credentials.json");
      await symlink(missing, store.path("default"));

      const error = await rejection(store.write("default", sample()));
      expect(isAirlockError(error, "config_invalid")).toBe(true);
      expect(error.message).toContain(store.path("default"));
      expect(error.message).toContain(missing);
      expect(error.hint).toMatch(/link|airlock login/);
      expect((await lstat(store.path("default"))).isSymbolicLink()).toBe(true);
      expect(await readlink(store.path("default"))).toBe(missing);
      // The probe refuses it too, before a login mints tokens that could not be saved.
      expect(isAirlockError(await rejection(store.probeWritable("default")), "config_invalid")).toBe(true);
    });

    it.skipIf(noMount !== undefined)(
      "refuses a link whose target folder is read-only (EROFS), naming both paths",
      async () => {
        const dotfiles = join(root, "dotfiles");
        await mkdir(dotfiles);
        volumes.push(await mountReadOnly(dotfiles, { "airlock-credentials.json": JSON.stringify(sample()) }));
        const target = join(dotfiles, "airlock-credentials.json");
        await symlink(target, store.path("default"));

        const error = await rejection(store.write("default", sample({ refreshToken: "refresh-2" })));
        expect(isAirlockError(error, "config_invalid")).toBe(true);
        expect(error.message).toContain(store.path("default"));
        expect(error.message).toContain(target);
        expect(error.message).toContain("EROFS");
        expect((await lstat(store.path("default"))).isSymbolicLink()).toBe(true);
        expect((await store.read("default"))?.refreshToken).toBe("refresh-1");

        const probe = await rejection(store.probeWritable("default"));
        expect(isAirlockError(probe, "config_invalid")).toBe(true);
        expect(probe.message).toContain(dotfiles);
        expect(probe.message).toContain("EROFS");
      },
    );

    it("reports a credentials file other users can read through the callback, a 0600 one not", async () => {
      await store.write("default", sample());
      await store.read("default");
      expect(insecure).toEqual([]);

      await chmod(store.path("default"), 0o644);
      expect((await store.read("default"))?.accessToken).toBe("access-1");
      expect(insecure).toEqual([[store.path("default"), 0o644]]);
    });

    it("checks the mode of a symlink's target, not of the link", async () => {
      const { target } = await linkedCredentials();
      await store.read("default");
      expect(insecure).toEqual([]);
      await chmod(target, 0o640);
      await store.read("default");
      expect(insecure).toEqual([[store.path("default"), 0o640]]);
    });

    it("probe: creates a missing folder and leaves nothing behind", async () => {
      const fresh = new FileCredentialStore(join(root, "new", "airlock"));
      await fresh.probeWritable("default");
      expect((await stat(fresh.home)).mode & 0o777).toBe(0o700);
      expect(await readdir(fresh.home)).toEqual([]);
    });

    it("probe: a folder under a regular file (ENOTDIR) is config_invalid with the fix", async () => {
      await writeFile(join(root, "a-file"), "");
      const blocked = new FileCredentialStore(join(root, "a-file", "airlock"));
      const error = await rejection(blocked.probeWritable("default"));
      expect(isAirlockError(error, "config_invalid")).toBe(true);
      expect(error.message).toContain(blocked.home);
      expect(error.message).toContain("ENOTDIR");
      expect(error.hint).toContain("AIRLOCK_HOME");
      expect(error.hint).toContain("airlock login");
    });

    it.skipIf(noMount !== undefined)(
      "probe: a read-only folder (EROFS) is config_invalid naming the folder",
      async () => {
        const readOnly = join(root, "ro");
        await mkdir(readOnly);
        volumes.push(await mountReadOnly(readOnly));
        const error = await rejection(new FileCredentialStore(readOnly).probeWritable("default"));
        expect(isAirlockError(error, "config_invalid")).toBe(true);
        expect(error.message).toContain(readOnly);
        expect(error.message).toContain("EROFS");
        expect(error.hint).toContain(`chmod u+w ${readOnly}`);
      },
    );

    // Root bypasses permission bits; as root the read-only mount above covers the same probe.
    if (!isRoot) {
      posixOnly("probe: a folder without write permission (EACCES) is config_invalid", async () => {
        const locked = join(root, "locked");
        await mkdir(locked, { mode: 0o500 });
        const error = await rejection(new FileCredentialStore(locked).probeWritable("default"));
        expect(isAirlockError(error, "config_invalid")).toBe(true);
        expect(error.message).toContain(locked);
        expect(error.message).toContain("EACCES");
      });
    }
  },
);

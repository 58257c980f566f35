import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { storedCredentials } from "../../test/support/credentials.js";
import { isAirlockError } from "../errors.js";
import {
  FileCredentialStore,
  resolveAirlockHome,
  type StoredCredentials,
  validateProfileName,
} from "./file.js";

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

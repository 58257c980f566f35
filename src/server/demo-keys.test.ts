import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseEncryptionKeys } from "../store/crypto.js";
import { demoEmulatorStatePath, demoKeysPath, loadOrCreateDemoKeys } from "./demo-keys.js";

describe("demo keys", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("lives next to the SQLite file, never in it", () => {
    expect(demoKeysPath("/srv/data/airlock.db")).toBe("/srv/data/.airlock/demo-keys.json");
    expect(demoKeysPath("sqlite:///srv/data/x.db")).toBe("/srv/data/.airlock/demo-keys.json");
    expect(demoKeysPath("postgres://db/airlock")).toBe(join(process.cwd(), ".airlock", "demo-keys.json"));
  });

  it("keeps the demo emulator's grants beside the keys, for a SQLite file only", () => {
    expect(demoEmulatorStatePath("/srv/data/airlock.db")).toBe("/srv/data/.airlock/demo-emulator.json");
    expect(demoEmulatorStatePath("postgres://db/airlock")).toBeUndefined();
    expect(demoEmulatorStatePath(":memory:")).toBeUndefined();
  });

  it("is generated once (0600) and kept", () => {
    const dir = mkdtempSync(join(tmpdir(), "airlock-keys-"));
    dirs.push(dir);
    const path = demoKeysPath(join(dir, "airlock.db"));
    const first = loadOrCreateDemoKeys(path);
    expect(first.created).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(() => parseEncryptionKeys(first.encryptionKeys)).not.toThrow();
    const second = loadOrCreateDemoKeys(path);
    expect(second).toMatchObject({
      created: false,
      secretKey: first.secretKey,
      encryptionKeys: first.encryptionKeys,
    });
  });

  it("names the file and the fix when it is damaged", () => {
    const dir = mkdtempSync(join(tmpdir(), "airlock-keys-"));
    dirs.push(dir);
    const path = demoKeysPath(join(dir, "airlock.db"));
    loadOrCreateDemoKeys(path);
    writeFileSync(path, "{broken");
    expect(() => loadOrCreateDemoKeys(path)).toThrow(/damaged/);
    expect(readFileSync(path, "utf8")).toBe("{broken");
  });
});

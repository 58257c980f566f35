/**
 * The rotation journal on a real file system: durable, encrypted entries bound to their names, and
 * still writable on a full volume (a real tmpfs, mounted when the tests run as root).
 */
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { announceSkip } from "../../test/support/skip.js";
import { mountSmallVolume, smallVolumeMissing } from "../../test/support/small-volume.js";
import { isAirlockError } from "../shared/errors.js";
import { generateKeyringValue, parseEncryptionKeys } from "./crypto.js";
import { FileRotationJournal, type JournaledRotation } from "./journal.js";

const keyring = parseEncryptionKeys(generateKeyringValue("j1"));
const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "airlock-journal-"));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function rotation(identifier: string, baseVersion: number): JournaledRotation {
  return {
    identifier,
    baseVersion,
    tokens: {
      scopes: ["data.records:read"],
      accessToken: `at-${identifier}-${baseVersion}-secret`,
      refreshToken: `rt-${identifier}-${baseVersion}-secret`,
      accessTokenExpiresAt: new Date("2026-12-02T12:00:00.000Z"),
      refreshTokenExpiresAt: new Date("2027-01-31T12:00:00.000Z"),
    },
    obtainedAt: new Date("2026-12-02T11:00:00.000Z"),
  };
}

const entries = (dir: string) => readdirSync(dir).filter((name) => name.endsWith(".rotation"));

describe("FileRotationJournal", () => {
  it("keeps entries encrypted and private until removed", async () => {
    const dir = join(tempDir(), "journal");
    const journal = await FileRotationJournal.open(dir, { keyring });
    await journal.write(rotation("user_1", 4));
    await journal.write(rotation("user_2", 9));
    expect(await journal.list()).toEqual(
      expect.arrayContaining([rotation("user_1", 4), rotation("user_2", 9)]),
    );
    for (const name of entries(dir)) {
      const raw = readFileSync(join(dir, name), "utf8");
      expect(raw).not.toMatch(/secret|user_/);
      expect(statSync(join(dir, name)).mode & 0o777).toBe(0o600);
    }
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    await journal.remove("user_1", 4);
    await journal.remove("user_1", 4); // absent: fine
    expect(await journal.list()).toEqual([rotation("user_2", 9)]);
  });

  it("refuses an entry moved to another name or read under other keys", async () => {
    const dir = tempDir();
    const journal = await FileRotationJournal.open(dir, { keyring });
    await journal.write(rotation("user_1", 1));
    const [name] = entries(dir);
    renameSync(join(dir, name!), join(dir, name!.replace("-v1.", "-v2.")));
    expect(await journal.list()).toEqual([]);
    await journal.write(rotation("user_3", 1));
    const other = await FileRotationJournal.open(dir, {
      keyring: parseEncryptionKeys(generateKeyringValue("j2")),
    });
    expect(await other.list()).toEqual([]);
    expect((await journal.list()).map((e) => e.identifier)).toEqual(["user_3"]);
  });

  it("binds entries to their integration: one moved to another integration's journal is refused", async () => {
    const dir = tempDir();
    const readonly = await FileRotationJournal.open(join(dir, "integrations", "readonly"), {
      keyring,
      integration: "readonly",
    });
    await readonly.write(rotation("user_1", 1));
    expect(await readonly.list()).toEqual([rotation("user_1", 1)]);
    const [name] = entries(join(dir, "integrations", "readonly"));
    renameSync(join(dir, "integrations", "readonly", name!), join(dir, name!));
    const main = await FileRotationJournal.open(dir, { keyring });
    expect(await main.list()).toEqual([]);
  });

  it("fails at open, naming the folder, when it cannot be written", async () => {
    const file = join(tempDir(), "not-a-folder");
    writeFileSync(file, "");
    const err = await FileRotationJournal.open(join(file, "journal"), { keyring }).catch((e: unknown) => e);
    expect(isAirlockError(err, "config_invalid")).toBe(true);
    expect((err as Error).message).toContain(join(file, "journal"));
    expect((err as { hint: string }).hint).toContain("AIRLOCK_JOURNAL_DIR");
  });

  const noMount = smallVolumeMissing();
  announceSkip("mount", "journal on a full volume", noMount);
  it.skipIf(noMount !== undefined)("still writes an entry on a full volume, from its ballast", async () => {
    const volume = mountSmallVolume(1);
    try {
      const journal = await FileRotationJournal.open(join(volume.dir, "journal"), { keyring });
      const fill = () => {
        volume.fill();
        expect(() => writeFileSync(join(volume.dir, "probe"), "x".repeat(8192))).toThrow(/ENOSPC/);
      };
      fill();
      await journal.write(rotation("user_1", 7));
      expect(await journal.list()).toEqual([rotation("user_1", 7)]);
      // The ballast is spent and the volume filled again: now a write fails, and says why.
      fill();
      await expect(journal.write(rotation("user_2", 7))).rejects.toThrow(/ENOSPC/);
      // Space back: removing an entry rebuilds the ballast.
      volume.free();
      await journal.remove("user_1", 7);
      expect(readdirSync(join(volume.dir, "journal"))).toEqual([".reserve"]);
    } finally {
      volume.unmount();
    }
  });
});

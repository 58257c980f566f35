/**
 * SQLite failures for real: a database that is full (max_page_count, and a genuinely full tmpfs),
 * a read-only mount. Store methods reject with the translated `transient` error carrying SQLite's
 * own code, never "cannot rollback - no transaction is active"; a read-only file refuses to start.
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { failure } from "../../test/support/airlock-error.js";
import { connectionTokens } from "../../test/support/connection-tokens.js";
import { announceSkip } from "../../test/support/skip.js";
import { mountSmallVolume, type SmallVolume, smallVolumeMissing } from "../../test/support/small-volume.js";
import { type AirlockError, isAirlockError } from "../shared/errors.js";
import { generateKeyringValue, parseEncryptionKeys } from "./crypto.js";
import { openStore } from "./index.js";
import type { SqlStore } from "./sql-store.js";
import { openSqliteStore } from "./sqlite.js";

const keyring = parseEncryptionKeys(generateKeyringValue("k1"));
const dir = mkdtempSync(join(tmpdir(), "airlock-sqlite-"));
const stores: SqlStore[] = [];
const volumes: SmallVolume[] = [];

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const volume of volumes.splice(0)) volume.unmount();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Long tokens: each row takes real space, so a page limit or a small disk fills quickly.
const tokens = (identifier: string) => connectionTokens(identifier, { padding: 200 });

const created = (isNew: boolean) => ({ type: isNew ? "connection.created" : "connection.recovered" });

/** Upserts new connections until one fails; returns that failure. */
async function fillUp(store: SqlStore): Promise<AirlockError> {
  for (let n = 0; n < 10_000; n++) {
    const error = await store.upsertConnection(tokens(`user_${n}`), new Date(), created).then(
      () => null,
      (caught: unknown) => caught,
    );
    if (error !== null) {
      if (!isAirlockError(error)) throw error;
      return error;
    }
  }
  throw new Error("the database never filled up");
}

function expectSqliteFull(error: AirlockError): void {
  expect(error.code).toBe("transient");
  expect(error.message).toBe("The database is unavailable (disk full).");
  expect(error.details).toMatchObject({ store_error: "SQLITE_FULL", retry_after_seconds: 30 });
  expect((error.cause as { code?: string }).code).toBe("SQLITE_FULL");
  expect(String((error.cause as Error).message)).not.toContain("cannot rollback");
}

describe("a full SQLite database (max_page_count)", () => {
  it("a failed transaction surfaces SQLITE_FULL, reported once; the store works again with room", async () => {
    const path = join(dir, "full.db");
    let sqlite: BetterSqlite3.Database | undefined;
    const failures: Array<[string, string]> = [];
    const store = openSqliteStore(path, {
      keyring,
      onOpen: (connection) => {
        sqlite = connection;
      },
      onFailure: (failure, kind) => failures.push([kind, String(failure.details?.store_error)]),
    });
    stores.push(store);
    await store.migrate();
    if (!sqlite) throw new Error("onOpen was not called");
    // Migrations that rebuild a table leave free pages behind: without them the file is full.
    sqlite.exec("VACUUM");
    sqlite.pragma(`max_page_count = ${sqlite.pragma("page_count", { simple: true })}`);

    // A transaction whose one plain INSERT hits SQLITE_FULL: SQLite rolls the whole transaction
    // back itself, and a second ROLLBACK would throw "cannot rollback - no transaction is active".
    const event = await failure(store.appendEvent("u1", { type: "big", data: { blob: "z".repeat(10_000) } }));
    expectSqliteFull(event);
    expect(event.hint).toContain(path);
    expect(failures).toEqual([["sqlite", "SQLITE_FULL"]]);
    expect(sqlite.inTransaction).toBe(false);

    // An upsert (SQLite rolls back only that statement; Airlock's ROLLBACK ends the transaction).
    expectSqliteFull(await fillUp(store));
    expect(failures).toHaveLength(2);
    expect(sqlite.inTransaction).toBe(false);

    // One statement outside a transaction (a row too big for the free space) fails the same way.
    const single = await failure(
      store.createConnectSession({
        tokenHash: "h".repeat(64),
        identifier: "z".repeat(10_000),
        scopes: [],
        returnUrl: null,
        expiresAt: new Date(Date.now() + 60_000),
      }),
    );
    expectSqliteFull(single);

    sqlite.pragma("max_page_count = 1000000");
    await store.upsertConnection(tokens("after"), new Date(), created);
    expect((await store.getConnection("after"))?.identifier).toBe("after");
    await store.checkWritable();
  });
});

const noMount = smallVolumeMissing();
announceSkip("mount", "SQLite full-disk and read-only mount tests", noMount);

describe.skipIf(noMount !== undefined)("a SQLite database on a real volume", () => {
  it("a full disk: checkWritable and transactions fail with SQLITE_FULL; freeing space heals", async () => {
    const volume = mountSmallVolume(2);
    volumes.push(volume);
    const path = join(volume.dir, "airlock.db");
    const store = await openStore(path, { keyring });
    stores.push(store);
    await store.upsertConnection(tokens("before"), new Date(), created);
    await store.checkWritable();

    volume.fill();
    expectSqliteFull(await failure(store.checkWritable()));
    expectSqliteFull(await failure(store.upsertConnection(tokens("during"), new Date(), created)));
    // Reads still work.
    expect((await store.getConnection("before"))?.identifier).toBe("before");

    volume.free();
    await store.checkWritable();
    await store.upsertConnection(tokens("after"), new Date(), created);
    expect((await store.getConnection("after"))?.identifier).toBe("after");
  });

  /** A migrated Airlock database in a normal folder, closed (a single file in WAL mode). */
  async function airlockDatabase(name: string): Promise<string> {
    const path = join(dir, name);
    const store = await openStore(path, { keyring });
    await store.upsertConnection(tokens("u1"), new Date(), created);
    await store.close();
    return path;
  }

  /**
   * Copies the database at `source` (and those of its `sidecars`, e.g. `-wal`, that exist) onto a
   * fresh tmpfs, then remounts that read-only; returns the copy's path.
   */
  function readOnlyCopy(source: string, sidecars: readonly string[] = []): string {
    const volume = mountSmallVolume(2);
    volumes.push(volume);
    const path = join(volume.dir, "airlock.db");
    copyFileSync(source, path);
    for (const suffix of sidecars) {
      if (existsSync(source + suffix)) copyFileSync(source + suffix, path + suffix);
    }
    volume.remountReadOnly();
    return path;
  }

  async function expectReadOnly(path: string): Promise<void> {
    const error = await failure(openStore(path, { keyring }));
    expect(error.code).toBe("config_invalid");
    expect(error.message).toBe(
      `The SQLite database at ${path} is read-only (it is on a read-only file system).`,
    );
    expect(error.hint).toContain("writable");
    expect(error.hint).toContain(`${path}-wal`);
  }

  it("refuses to start on a read-only mount (WAL file without its -shm)", async () => {
    const source = await airlockDatabase("ro-wal.db");
    await expectReadOnly(readOnlyCopy(source));
  });

  it("refuses to start on a read-only mount (rollback-journal file: WAL cannot be switched on)", async () => {
    const source = await airlockDatabase("ro-delete.db");
    const raw = new BetterSqlite3(source);
    raw.pragma("journal_mode = DELETE");
    raw.close();
    await expectReadOnly(readOnlyCopy(source));
  });

  it("refuses to start on a read-only mount (-wal and -shm present: only the first write fails)", async () => {
    const source = await airlockDatabase("ro-shm.db");
    const raw = new BetterSqlite3(source);
    raw.prepare("select count(*) from connections").get();
    const path = readOnlyCopy(source, ["-wal", "-shm"]);
    raw.close();
    expect(existsSync(`${path}-shm`)).toBe(true);
    await expectReadOnly(path);
  });
});

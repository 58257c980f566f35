/**
 * Named API keys in the store (issue 12), on SQLite and PostgreSQL: found by hash only while
 * unrevoked, the hash is unique, the last-used time moves at most once a minute, revoking keeps
 * the first time and an unknown id is null.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storeTargets, type TestDatabase } from "../../test/support/store-targets.js";
import type { SqlStore } from "./sql-store.js";

const T0 = new Date("2026-01-01T00:00:00Z");
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

for (const target of storeTargets("API key store")) {
  describe.skipIf(target.skip)(`API keys in the store (${target.name})`, () => {
    let db: TestDatabase;
    let store: SqlStore;

    beforeAll(async () => {
      db = await target.create();
      store = await db.open();
    });

    afterAll(async () => {
      await db?.cleanup();
    });

    it("creates, lists and finds a key by its hash", async () => {
      const created = await store.createApiKey({
        id: "key_a",
        name: "workers",
        scope: "proxy",
        keyHash: "a".repeat(64),
        now: T0,
      });
      expect(created).toEqual({
        id: "key_a",
        name: "workers",
        scope: "proxy",
        createdAt: T0,
        lastUsedAt: null,
        revokedAt: null,
      });
      await store.createApiKey({
        id: "key_b",
        name: "web",
        scope: "connect",
        keyHash: "b".repeat(64),
        now: at(1),
      });
      expect((await store.listApiKeys()).map((k) => k.id)).toEqual(["key_a", "key_b"]);
      expect(await store.findActiveApiKey("a".repeat(64))).toEqual(created);
      expect(await store.findActiveApiKey("c".repeat(64))).toBeNull();
      const rows = await db.query("SELECT key_hash FROM api_keys WHERE id = $1", ["key_a"]);
      expect(rows).toEqual([{ key_hash: "a".repeat(64) }]);
    });

    it("refuses a second key with the same hash", async () => {
      await expect(
        store.createApiKey({ id: "key_dup", name: "dup", scope: "admin", keyHash: "a".repeat(64), now: T0 }),
      ).rejects.toThrow();
    });

    it("moves the last-used time at most once a minute", async () => {
      await store.touchApiKey("key_a", at(10));
      expect((await store.findActiveApiKey("a".repeat(64)))?.lastUsedAt).toEqual(at(10));
      await store.touchApiKey("key_a", at(40));
      expect((await store.findActiveApiKey("a".repeat(64)))?.lastUsedAt).toEqual(at(10));
      await store.touchApiKey("key_a", at(70));
      expect((await store.findActiveApiKey("a".repeat(64)))?.lastUsedAt).toEqual(at(70));
    });

    it("revokes: the key is no longer found, stays listed, and the first time is kept", async () => {
      const revoked = await store.revokeApiKey("key_b", at(100));
      expect(revoked?.revokedAt).toEqual(at(100));
      expect(await store.findActiveApiKey("b".repeat(64))).toBeNull();
      expect((await store.revokeApiKey("key_b", at(200)))?.revokedAt).toEqual(at(100));
      expect((await store.listApiKeys()).find((k) => k.id === "key_b")?.revokedAt).toEqual(at(100));
      expect(await store.revokeApiKey("key_nope", at(100))).toBeNull();
    });
  });
}

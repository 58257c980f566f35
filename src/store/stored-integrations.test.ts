/**
 * Integrations created through the API, in the store (issue 12), on SQLite and PostgreSQL: a taken
 * id or client id writes nothing, the secret is encrypted and bound to its row, key rotation
 * rewrites it, and a delete removes only its row.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storeTargets, type TestDatabase } from "../../test/support/store-targets.js";
import { generateKeyringValue, parseEncryptionKeys } from "./crypto.js";
import { openStore } from "./index.js";
import type { SqlStore } from "./sql-store.js";
import type { StoredIntegration } from "./types.js";

const made = (
  id: string,
  clientId: string,
  clientSecret: string | null = `secret-of-${id}`,
): StoredIntegration => ({
  id,
  name: `Integration ${id}`,
  clientId,
  clientSecret,
  scopes: ["data.records:read"],
  createdAt: new Date("2026-12-04T10:00:00.000Z"),
});

for (const target of storeTargets("stored integrations")) {
  describe.skipIf(target.skip)(`stored integrations (${target.name})`, () => {
    let db: TestDatabase;
    let store: SqlStore;

    beforeAll(async () => {
      db = await target.create();
      store = await db.open();
    });
    afterAll(async () => {
      await db?.cleanup();
    });

    it("stores one per id and per client id; a taken one writes nothing", async () => {
      expect(await store.createStoredIntegration(made("a", "client-a"))).toBe(true);
      expect(await store.createStoredIntegration(made("b", "client-b", null))).toBe(true);
      expect(await store.createStoredIntegration(made("a", "client-z"))).toBe(false);
      expect(await store.createStoredIntegration(made("z", "client-a"))).toBe(false);
      expect(await store.listStoredIntegrations()).toEqual([
        made("a", "client-a"),
        made("b", "client-b", null),
      ]);
    });

    it("keeps the secret encrypted and bound to its row", async () => {
      const rows = await db.query<{ id: string; client_secret_enc: string | null }>(
        "SELECT id, client_secret_enc FROM integrations ORDER BY id",
      );
      expect(rows[0]?.client_secret_enc).toMatch(/^v1\./);
      expect(rows[0]?.client_secret_enc).not.toContain("secret-of-a");
      expect(rows[1]?.client_secret_enc).toBeNull();
      // Another row's ciphertext does not decrypt here.
      await db.query("UPDATE integrations SET client_secret_enc = $1 WHERE id = 'b'", [
        rows[0]?.client_secret_enc,
      ]);
      await expect(store.listStoredIntegrations()).rejects.toMatchObject({ code: "config_invalid" });
      await db.query("UPDATE integrations SET client_secret_enc = NULL WHERE id = 'b'");
    });

    it("is rewritten by key rotation", async () => {
      const newKey = generateKeyringValue("k9");
      const both = await openStore(db.url, { keyring: parseEncryptionKeys(`${newKey},${db.keys}`) });
      try {
        const rewritten = await both.reencryptAll();
        expect(rewritten).toBe(1);
      } finally {
        await both.close();
      }
      const onlyNew = await openStore(db.url, { keyring: parseEncryptionKeys(newKey) });
      try {
        expect((await onlyNew.listStoredIntegrations())[0]?.clientSecret).toBe("secret-of-a");
      } finally {
        await onlyNew.close();
      }
    });

    it("deletes only the row named", async () => {
      expect(await store.deleteStoredIntegration("a")).toBe(true);
      expect(await store.deleteStoredIntegration("a")).toBe(false);
      expect((await store.listStoredIntegrations()).map((i) => i.id)).toEqual(["b"]);
    });
  });
}

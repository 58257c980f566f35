/**
 * The store's side of Airtable webhooks (issue 10), on SQLite and PostgreSQL: the MAC secret is
 * ciphertext bound to its row, one lease per webhook, a payload page is queued only with the
 * cursor move it belongs to (fenced on the cursor and the lease), pings counted during a fetch
 * stay due, a loss writes its event once, and the outbox hands out a webhook's pages in order.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storeTargets, type TestDatabase } from "../../test/support/store-targets.js";
import { generateKeyringValue, parseEncryptionKeys } from "./crypto.js";
import { openStore } from "./index.js";
import type { SqlStore } from "./sql-store.js";
import type { NewEvent } from "./types.js";

const MINUTE = 60_000;
const SECRET = "c2VjcmV0LW1hYy1rZXktb2YtdGhpcnR5LXR3by1ieXRlcyE=";

for (const target of storeTargets("Airtable webhook store")) {
  describe.skipIf(target.skip)(`Airtable webhooks in the store (${target.name})`, () => {
    let db: TestDatabase;
    let store: SqlStore;
    let t0: number;
    const lease = (owner: string, at: number, kind: "fetch" | "refresh" = "fetch") => ({
      owner,
      now: new Date(at),
      leaseMs: MINUTE,
      work:
        kind === "fetch"
          ? { kind, pollBefore: new Date(at - 10 * MINUTE) }
          : { kind, refreshBefore: new Date(at + 6 * 24 * 60 * MINUTE) },
    });
    const page = (owner: string, cursor: number, nextCursor: number): NewEvent => ({
      type: "airtable.payloads",
      data: { cursor, next_cursor: nextCursor, owner },
      ordering: { key: "awh_test", seq: cursor },
    });

    beforeAll(async () => {
      db = await target.create();
      store = await db.open({ webhookEvents: new Set(["airtable.payloads", "airtable.webhook_lost"]) });
      t0 = Date.now();
      await store.upsertConnection(
        {
          identifier: "u1",
          scopes: ["webhook:manage"],
          airtableUserId: "usr1",
          email: null,
          accessToken: "at",
          refreshToken: "rt",
          accessTokenExpiresAt: new Date(t0 + 60 * MINUTE),
          refreshTokenExpiresAt: new Date(t0 + 60 * 24 * 60 * MINUTE),
        },
        new Date(t0),
        () => ({ type: "connection.created" }),
      );
    });

    afterAll(async () => {
      await db?.cleanup();
    });

    it("keeps the MAC secret encrypted and bound to its row", async () => {
      await store.createAirtableWebhook({
        id: "awh_test",
        identifier: "u1",
        baseId: "appABCDEFGHIJKLMN",
        specification: { options: { filters: { dataTypes: ["tableData"] } } },
        notificationUrl: "http://localhost/airtable/notifications/awh_test",
        now: new Date(t0),
      });
      expect(await store.getAirtableWebhookSecret("awh_test")).toBeNull();
      const activated = await store.activateAirtableWebhook("awh_test", {
        airtableWebhookId: "achABCDEFGHIJKLMN",
        macSecret: SECRET,
        expirationTime: new Date(t0 + 7 * 24 * 60 * MINUTE),
        now: new Date(t0),
      });
      expect(activated).toBe(true);
      expect(await store.getAirtableWebhookSecret("awh_test")).toBe(SECRET);
      const stored = await db.query<{ mac_secret_enc: string }>(
        "SELECT mac_secret_enc FROM airtable_webhooks WHERE id = 'awh_test'",
      );
      expect(stored[0]!.mac_secret_enc).not.toContain(SECRET);
      // A ciphertext copied to another row does not decrypt there.
      await store.createAirtableWebhook({
        id: "awh_copy",
        identifier: "u1",
        baseId: "appABCDEFGHIJKLMN",
        specification: {},
        notificationUrl: "http://localhost/x",
        now: new Date(t0),
      });
      await db.query("UPDATE airtable_webhooks SET mac_secret_enc = $1 WHERE id = 'awh_copy'", [
        stored[0]!.mac_secret_enc,
      ]);
      await expect(store.getAirtableWebhookSecret("awh_copy")).rejects.toThrow(/could not be decrypted/);
      await store.deleteAirtableWebhook("awh_copy");
    });

    it("leases a webhook to one owner, and only while work is due", async () => {
      const a = await store.claimAirtableWebhookLease("awh_test", lease("A", t0));
      expect(a?.cursor).toBe(1);
      expect(await store.claimAirtableWebhookLease("awh_test", lease("B", t0 + 1000))).toBeNull();
      expect(
        await store.releaseAirtableWebhookLease("awh_test", {
          kind: "fetched",
          owner: "A",
          coveredPings: a!.pings,
          cooldownUntil: null,
          now: new Date(t0 + 2000),
        }),
      ).toBe(true);
      // Fetched just now, no ping since: nothing is due.
      expect(await store.claimAirtableWebhookLease("awh_test", lease("B", t0 + 3000))).toBeNull();
      expect(
        await store.listAirtableWebhooksDue({
          now: new Date(t0 + 3000),
          refreshBefore: new Date(t0 + 3000 + 6 * 24 * 60 * MINUTE),
          pollBefore: new Date(t0 + 3000 - 10 * MINUTE),
          limit: 10,
        }),
      ).toEqual([]);
      await store.recordAirtableWebhookPing("awh_test", new Date(t0 + 4000));
      expect(
        await store.listAirtableWebhooksDue({
          now: new Date(t0 + 4000),
          refreshBefore: new Date(t0 + 4000 + 6 * 24 * 60 * MINUTE),
          pollBefore: new Date(t0 + 4000 - 10 * MINUTE),
          limit: 10,
        }),
      ).toEqual(["awh_test"]);
    });

    it("queues a page only with its cursor move, and refuses a holder that lost the lease", async () => {
      const at = t0 + 5000;
      const a = (await store.claimAirtableWebhookLease("awh_test", lease("A", at)))!;
      expect(a.pings).toBe(1);
      expect(
        await store.saveAirtablePayloadPage("awh_test", {
          owner: "A",
          cursor: 1,
          nextCursor: 3,
          event: page("A", 1, 3),
          now: new Date(at),
          leaseMs: MINUTE,
        }),
      ).toBe(true);
      // A ping lands during A's fetch.
      await store.recordAirtableWebhookPing("awh_test", new Date(at + 10));
      // A dies; its lease runs out; B takes over from the stored cursor.
      const later = at + 2 * MINUTE;
      const b = (await store.claimAirtableWebhookLease("awh_test", lease("B", later)))!;
      expect(b.cursor).toBe(3);
      // A comes back and tries to save the page it fetched from cursor 3: fenced out.
      expect(
        await store.saveAirtablePayloadPage("awh_test", {
          owner: "A",
          cursor: 3,
          nextCursor: 4,
          event: page("A", 3, 4),
          now: new Date(later),
          leaseMs: MINUTE,
        }),
      ).toBe(false);
      // B's save of a page from a stale cursor is refused too.
      expect(
        await store.saveAirtablePayloadPage("awh_test", {
          owner: "B",
          cursor: 1,
          nextCursor: 3,
          event: page("B", 1, 3),
          now: new Date(later),
          leaseMs: MINUTE,
        }),
      ).toBe(false);
      expect(
        await store.saveAirtablePayloadPage("awh_test", {
          owner: "B",
          cursor: 3,
          nextCursor: 4,
          event: page("B", 3, 4),
          now: new Date(later),
          leaseMs: MINUTE,
        }),
      ).toBe(true);
      expect(
        await store.releaseAirtableWebhookLease("awh_test", {
          kind: "fetched",
          owner: "A",
          coveredPings: 1,
          cooldownUntil: null,
          now: new Date(later),
        }),
      ).toBe(false);
      // B's claim covered both pings.
      expect(
        await store.releaseAirtableWebhookLease("awh_test", {
          kind: "fetched",
          owner: "B",
          coveredPings: b.pings,
          cooldownUntil: null,
          now: new Date(later + 100),
        }),
      ).toBe(true);
      const rows = await db.query<{ data: string }>(
        "SELECT data FROM events WHERE type = 'airtable.payloads' ORDER BY ordering_seq",
      );
      expect(rows.map((r) => JSON.parse(r.data))).toEqual([
        { cursor: 1, next_cursor: 3, owner: "A" },
        { cursor: 3, next_cursor: 4, owner: "B" },
      ]);
      const [listed] = await store.listAirtableWebhooks("u1");
      expect(listed).toMatchObject({ cursor: 4, pings: 2, fetchedPings: 2, delivery: { pending: 2 } });
    });

    it("hands out a webhook's pages in order, one at a time, to any number of claimers", async () => {
      const at = new Date(t0 + 10 * MINUTE);
      const claim = (owner: string) => store.claimOutbox({ owner, now: at, limit: 10, leaseMs: MINUTE });
      const first = await claim("d1");
      const payloads = first.filter((item) => item.type === "airtable.payloads");
      expect(payloads.map((item) => item.data.cursor)).toEqual([1]);
      expect((await claim("d2")).filter((item) => item.type === "airtable.payloads")).toEqual([]);
      // Failing the first keeps the second waiting (no overtaking).
      await store.markOutboxFailed(payloads[0]!.id, { nextAttemptAt: at, error: "HTTP 500" });
      const retried = (await claim("d2")).filter((item) => item.type === "airtable.payloads");
      expect(retried.map((item) => item.data.cursor)).toEqual([1]);
      await store.markOutboxDelivered(retried[0]!.id, at);
      const second = (await claim("d3")).filter((item) => item.type === "airtable.payloads");
      expect(second.map((item) => item.data.cursor)).toEqual([3]);
    });

    it("holds every claimer off during a cooldown after a fetch that found nothing", async () => {
      const at = t0 + 11 * MINUTE;
      await store.recordAirtableWebhookPing("awh_test", new Date(at));
      const e = (await store.claimAirtableWebhookLease("awh_test", lease("E", at)))!;
      expect(
        await store.releaseAirtableWebhookLease("awh_test", {
          kind: "fetched",
          owner: "E",
          coveredPings: e.pings,
          cooldownUntil: new Date(at + 1000),
          now: new Date(at),
        }),
      ).toBe(true);
      // A ping of the same burst: due, but not before the cooldown ends.
      await store.recordAirtableWebhookPing("awh_test", new Date(at + 100));
      expect(await store.claimAirtableWebhookLease("awh_test", lease("F", at + 500))).toBeNull();
      const f = await store.claimAirtableWebhookLease("awh_test", lease("F", at + 1500));
      expect(f?.pings).toBe(e.pings + 1);
      await store.releaseAirtableWebhookLease("awh_test", {
        kind: "fetched",
        owner: "F",
        coveredPings: f!.pings,
        cooldownUntil: null,
        now: new Date(at + 1500),
      });
    });

    it("writes the loss once, and a lost webhook has no more work", async () => {
      const at = t0 + 8 * 24 * 60 * MINUTE;
      const claimed = await store.claimAirtableWebhookLease("awh_test", lease("C", at, "refresh"));
      expect(claimed).not.toBeNull();
      const event = { type: "airtable.webhook_lost", data: { webhook_id: "awh_test", reason: "expired" } };
      expect(
        await store.releaseAirtableWebhookLease("awh_test", {
          kind: "lost",
          owner: "C",
          status: "expired",
          event,
          now: new Date(at),
        }),
      ).toBe(true);
      expect(
        await store.releaseAirtableWebhookLease("awh_test", {
          kind: "lost",
          owner: "C",
          status: "expired",
          event,
          now: new Date(at),
        }),
      ).toBe(false);
      expect((await store.getAirtableWebhook("awh_test"))?.status).toBe("expired");
      expect(await store.claimAirtableWebhookLease("awh_test", lease("D", at + MINUTE))).toBeNull();
      const lost = await db.query("SELECT id FROM events WHERE type = 'airtable.webhook_lost'");
      expect(lost).toHaveLength(1);
    });

    it("re-encrypts the MAC secret with the other secrets under a new first key", async () => {
      const rotated = await openStore(db.url, {
        keyring: parseEncryptionKeys(`${generateKeyringValue("t2")},${db.keys}`),
      });
      try {
        expect(await rotated.reencryptAll()).toBeGreaterThan(0);
        const [row] = await db.query<{ mac_secret_enc: string }>(
          "SELECT mac_secret_enc FROM airtable_webhooks WHERE id = 'awh_test'",
        );
        expect(row!.mac_secret_enc.startsWith("v1.t2.")).toBe(true);
        expect(await rotated.getAirtableWebhookSecret("awh_test")).toBe(SECRET);
      } finally {
        await rotated.close();
      }
    });
  });
}

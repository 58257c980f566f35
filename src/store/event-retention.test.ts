/**
 * Event retention (`pruneEvents`), on SQLite and PostgreSQL: events older than the window go,
 * delivered webhook events included; undelivered outbox events and the newest event of every
 * identifier stay, so no connection's history page is ever empty and no webhook is dropped.
 */
import { afterEach, describe, expect, it } from "vitest";
import { connectionTokens } from "../../test/support/connection-tokens.js";
import { storeTargets, type TestDatabase } from "../../test/support/store-targets.js";
import type { SqlStore } from "./sql-store.js";

const DAY = 24 * 3600_000;
const NOW = Date.now();
const daysAgo = (days: number, plusMs = 0) => new Date(NOW - days * DAY + plusMs);

const tokens = (identifier: string) => connectionTokens(identifier, { now: new Date(NOW) });

/** A connection (re)connected at each of `times`: one event per time (`connection.created`, then `connection.recovered`). */
async function history(store: SqlStore, identifier: string, times: Date[]): Promise<void> {
  for (const at of times) {
    await store.upsertConnection(tokens(identifier), at, (created) => ({
      type: created ? "connection.created" : "connection.recovered",
    }));
  }
}

async function count(store: SqlStore, identifiers: string[]): Promise<Record<string, string[]>> {
  const result: Record<string, string[]> = {};
  for (const id of identifiers) {
    result[id] = (await store.listEvents(id, { limit: 1000 })).map((e) => e.type);
  }
  return result;
}

const total = (counts: Record<string, string[]>) =>
  Object.values(counts).reduce((sum, types) => sum + types.length, 0);

for (const target of storeTargets("event retention")) {
  describe.skipIf(target.skip)(`pruneEvents (${target.name})`, () => {
    let db: TestDatabase | undefined;
    afterEach(async () => {
      await db?.cleanup();
      db = undefined;
    });

    it("deletes events older than the window, keeps undelivered ones and each identifier's newest", async () => {
      db = await target.create();
      // connection.created goes to the outbox; connection.recovered does not.
      const store = await db.open({ webhookEvents: new Set(["connection.created"]) });
      const old = (n: number) => Array.from({ length: n }, (_, i) => daysAgo(40, i * 60_000));

      // Delivered webhook event + old history: only the newest old event stays.
      await history(store, "quiet_user", old(6));
      // Old history, then recent activity: only the recent events stay.
      await history(store, "busy_user", [...old(5), daysAgo(1), daysAgo(0)]);
      // Its connection.created was never delivered: it stays, however old (the outbox is a promise).
      await history(store, "undelivered_user", old(3));

      const claimed = await store.claimOutbox({ owner: "t", now: new Date(), limit: 100, leaseMs: 60_000 });
      for (const item of claimed) {
        if (item.identifier !== "undelivered_user") await store.markOutboxDelivered(item.id, new Date());
      }

      const ids = ["quiet_user", "busy_user", "undelivered_user"];
      const before = await count(store, ids);
      expect(total(before)).toBe(16);

      const deleted = await store.pruneEvents({ before: daysAgo(30) });

      const after = await count(store, ids);
      expect(after).toEqual({
        quiet_user: ["connection.recovered"],
        busy_user: ["connection.recovered", "connection.recovered"],
        undelivered_user: ["connection.recovered", "connection.created"],
      });
      expect(deleted).toBe(total(before) - total(after));
      expect(total(after)).toBe(5);

      // Nothing left to prune: a second pass deletes nothing.
      expect(await store.pruneEvents({ before: daysAgo(30) })).toBe(0);
      // Once delivered, the old outbox event goes too (the newest event still stays).
      for (const item of claimed.filter((i) => i.identifier === "undelivered_user")) {
        await store.markOutboxDelivered(item.id, new Date());
      }
      expect(await store.pruneEvents({ before: daysAgo(30) })).toBe(1);
      expect((await count(store, ["undelivered_user"])).undelivered_user).toEqual(["connection.recovered"]);
    });

    it("prunes in batches until the window is clean; a disconnected connection keeps its last event", async () => {
      db = await target.create();
      const store = await db.open();
      await history(
        store,
        "many_user",
        Array.from({ length: 25 }, (_, i) => daysAgo(90, i * 1000)),
      );
      await history(store, "gone_user", [daysAgo(60)]);
      // Disconnected now: its last event is recent, the old history goes.
      await store.appendEvent("gone_user", { type: "connection.deleted" });

      const deleted = await store.pruneEvents({ before: daysAgo(30), batchSize: 4 });
      expect(deleted).toBe(24 + 1);
      const after = await count(store, ["many_user", "gone_user"]);
      expect(after.many_user).toHaveLength(1);
      expect(after.gone_user).toEqual(["connection.deleted"]);
    });
  });
}

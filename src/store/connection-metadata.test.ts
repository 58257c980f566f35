/**
 * Connection metadata in the store (issue 12), on SQLite and PostgreSQL: it travels from the
 * connect session through the pending authorization to the connection, a reconnect without any
 * keeps the connection's own, `setConnectionMetadata` replaces or clears it without moving the
 * version, and `connection.*` events carry it as it was when they were written.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storeTargets, type TestDatabase } from "../../test/support/store-targets.js";
import type { SqlStore } from "./sql-store.js";
import type { ConnectionMetadata, NewConnectionTokens } from "./types.js";

const MINUTE = 60_000;

for (const target of storeTargets("connection metadata store")) {
  describe.skipIf(target.skip)(`connection metadata in the store (${target.name})`, () => {
    let db: TestDatabase;
    let store: SqlStore;
    const t0 = Date.now();
    const tokens = (identifier: string, metadata?: ConnectionMetadata | null): NewConnectionTokens => ({
      identifier,
      scopes: ["data.records:read"],
      airtableUserId: "usr1",
      email: null,
      accessToken: "at",
      refreshToken: "rt",
      accessTokenExpiresAt: new Date(t0 + 60 * MINUTE),
      refreshTokenExpiresAt: new Date(t0 + 60 * 24 * 60 * MINUTE),
      metadata,
    });
    const connected = (created: boolean) => ({
      type: created ? "connection.created" : "connection.reconnected",
    });

    beforeAll(async () => {
      db = await target.create();
      store = await db.open({ webhookEvents: new Set(["connection.created", "connection.reconnected"]) });
    });

    afterAll(async () => {
      await db?.cleanup();
    });

    it("carries a connect session's metadata to its pending authorization", async () => {
      const metadata = { plan: "pro", nested: { list: [1, "two", null], ok: true } };
      await store.createConnectSession({
        tokenHash: "th1",
        identifier: "m1",
        scopes: [],
        returnUrl: null,
        expiresAt: new Date(t0 + 30 * MINUTE),
        metadata,
      });
      const session = await store.consumeConnectSession("th1", new Date(t0));
      expect(session?.metadata).toEqual(metadata);
      await store.createPendingAuthorization({
        stateHash: "sh1",
        identifier: "m1",
        scopes: [],
        returnUrl: null,
        codeVerifier: "v".repeat(43),
        browserBindingHash: "b",
        expiresAt: new Date(t0 + 10 * MINUTE),
        metadata: session?.metadata ?? null,
      });
      expect((await store.getPendingAuthorization("sh1"))?.metadata).toEqual(metadata);
      const raw = await db.query<{ metadata: string }>(
        "SELECT metadata FROM pending_authorizations WHERE state_hash = $1",
        ["sh1"],
      );
      expect(JSON.parse(raw[0]?.metadata ?? "null")).toEqual(metadata);
    });

    it("stores none as NULL on sessions and pending authorizations", async () => {
      await store.createConnectSession({
        tokenHash: "th2",
        identifier: "m2",
        scopes: [],
        returnUrl: null,
        expiresAt: new Date(t0 + 30 * MINUTE),
      });
      expect((await store.consumeConnectSession("th2", new Date(t0)))?.metadata).toBeNull();
      const raw = await db.query<{ metadata: unknown }>(
        "SELECT metadata FROM connect_sessions WHERE token_hash = $1",
        ["th2"],
      );
      expect(raw[0]?.metadata).toBeNull();
    });

    it("puts metadata on a new connection and its created event; a reconnect without any keeps it", async () => {
      const first = await store.upsertConnection(tokens("m3", { team: "t_1" }), new Date(t0), connected);
      expect(first.connection.metadata).toEqual({ team: "t_1" });
      const again = await store.upsertConnection(tokens("m3"), new Date(t0 + 1), connected);
      expect(again.created).toBe(false);
      expect(again.connection.metadata).toEqual({ team: "t_1" });
      const withNull = await store.upsertConnection(tokens("m3", null), new Date(t0 + 2), connected);
      expect(withNull.connection.metadata).toEqual({ team: "t_1" });
      const replaced = await store.upsertConnection(
        tokens("m3", { team: "t_2" }),
        new Date(t0 + 3),
        connected,
      );
      expect(replaced.connection.metadata).toEqual({ team: "t_2" });
      const events = await store.listEvents("m3", { limit: 10 });
      expect(events.map((e) => [e.type, e.data.metadata])).toEqual([
        ["connection.reconnected", { team: "t_2" }],
        ["connection.reconnected", { team: "t_1" }],
        ["connection.reconnected", { team: "t_1" }],
        ["connection.created", { team: "t_1" }],
      ]);
      const claimed = await store.claimOutbox({
        owner: "w",
        now: new Date(t0 + MINUTE),
        leaseMs: MINUTE,
        limit: 50,
      });
      expect(
        claimed.find((e) => e.identifier === "m3" && e.type === "connection.created")?.data.metadata,
      ).toEqual({
        team: "t_1",
      });
    });

    it("replaces and clears metadata without moving the version; events without metadata have none", async () => {
      const { connection } = await store.upsertConnection(tokens("m4"), new Date(t0), connected);
      expect(connection.metadata).toBeNull();
      expect((await store.listEvents("m4", { limit: 1 }))[0]?.data).not.toHaveProperty("metadata");
      expect(await store.setConnectionMetadata("m4", { a: 1, b: 2 }, new Date(t0 + 5))).toBe(true);
      expect(await store.setConnectionMetadata("m4", { c: 3 }, new Date(t0 + 6))).toBe(true);
      const row = await store.getConnection("m4");
      expect(row?.metadata).toEqual({ c: 3 });
      expect(row?.version).toBe(connection.version);
      expect(row?.updatedAt.getTime()).toBe(t0 + 6);
      const listed = await store.listConnections({ limit: 50 });
      expect(listed.items.find((c) => c.identifier === "m4")?.metadata).toEqual({ c: 3 });
      await store.revokeConnection(
        "m4",
        { reason: "disconnected", now: new Date(t0 + 7) },
        { type: "connection.deleted" },
      );
      expect((await store.listEvents("m4", { limit: 1 }))[0]?.data).toEqual({ metadata: { c: 3 } });
      expect(await store.setConnectionMetadata("m4", null, new Date(t0 + 8))).toBe(true);
      expect((await store.getConnection("m4"))?.metadata).toBeNull();
      const raw = await db.query<{ metadata: unknown }>(
        "SELECT metadata FROM connections WHERE identifier = $1",
        ["m4"],
      );
      expect(raw[0]?.metadata).toBeNull();
    });

    it("answers false for an unknown identifier", async () => {
      expect(await store.setConnectionMetadata("nobody", { a: 1 }, new Date(t0))).toBe(false);
    });
  });
}

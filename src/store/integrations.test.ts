/**
 * Several Airtable OAuth integrations in one store (issue 12), on SQLite and PostgreSQL: the same
 * identifier in `default` and in a `forIntegration("readonly")` view is two connections, with
 * their own tokens, leases, versions, status, metadata, events, keep-alive scan, connect flow,
 * Airtable webhooks and change feed; ciphertexts are bound to the integration; key rotation covers
 * every integration; and migration 0009 keeps what a 0008 database holds as the default's.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from "kysely";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { connectionTokens } from "../../test/support/connection-tokens.js";
import { createTestSchema, requireTestDatabaseUrl } from "../../test/support/postgres.js";
import { storeTargets, type TestDatabase } from "../../test/support/store-targets.js";
import { until } from "../../test/support/until.js";
import { isAirlockError } from "../shared/errors.js";
import { encryptionContext, generateKeyringValue, parseEncryptionKeys } from "./crypto.js";
import { openStore } from "./index.js";
import { migrationProvider } from "./migrations.js";
import type { SqlStore } from "./sql-store.js";
import type { ConnectionMetadata, NewConnectionTokens } from "./types.js";

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const T0 = new Date("2026-03-01T00:00:00Z");
const at = (ms: number) => new Date(T0.getTime() + ms);
const READONLY = "readonly";

/** Distinct tokens per integration, so a mix-up shows in the values read back. */
const tokens = (
  integration: string,
  identifier: string,
  options: { n?: number; now?: Date; metadata?: ConnectionMetadata } = {},
): NewConnectionTokens => {
  const base = connectionTokens(identifier, { now: options.now ?? T0, n: options.n ?? 1 });
  return {
    ...base,
    accessToken: `${integration}-${base.accessToken}`,
    refreshToken: `${integration}-${base.refreshToken}`,
    ...(options.metadata ? { metadata: options.metadata } : {}),
  };
};
const connected = (created: boolean) => ({ type: created ? "connection.created" : "connection.recovered" });

for (const target of storeTargets("integrations in the store")) {
  describe.skipIf(target.skip)(`integrations in the store (${target.name})`, () => {
    let db: TestDatabase;
    let store: SqlStore;
    let readonly: SqlStore;
    const setup = async (options?: { webhookEvents?: ReadonlySet<string> }) => {
      db = await target.create();
      store = await db.open(options);
      readonly = store.forIntegration(READONLY);
      return { store, readonly };
    };
    afterEach(async () => {
      await db?.cleanup();
    });

    it("keeps the same identifier in two integrations as two connections", async () => {
      await setup();
      expect(store.integration).toBe("default");
      expect(readonly.integration).toBe(READONLY);
      expect(store.forIntegration("default")).toBe(store);
      const d = await store.upsertConnection(
        tokens("default", "u1", { metadata: { side: "d" } }),
        T0,
        connected,
      );
      const r = await readonly.upsertConnection(
        tokens(READONLY, "u1", { metadata: { side: "r" } }),
        T0,
        connected,
      );
      expect(d.created).toBe(true);
      expect(r.created).toBe(true);
      expect(r.connection).toMatchObject({ integration: READONLY, version: 1 });

      expect(await store.getConnection("u1")).toMatchObject({
        integration: "default",
        accessToken: tokens("default", "u1").accessToken,
        refreshToken: tokens("default", "u1").refreshToken,
        metadata: { side: "d" },
        version: 1,
      });
      expect(await readonly.getConnection("u1")).toMatchObject({
        integration: READONLY,
        accessToken: tokens(READONLY, "u1").accessToken,
        refreshToken: tokens(READONLY, "u1").refreshToken,
        metadata: { side: "r" },
        version: 1,
      });
      expect(await readonly.getConnection("nobody")).toBeNull();
      const rows = await db.query<{ integration_id: string; identifier: string }>(
        "SELECT integration_id, identifier FROM connections ORDER BY integration_id",
      );
      expect(rows.map((row) => [row.integration_id, row.identifier])).toEqual([
        ["default", "u1"],
        [READONLY, "u1"],
      ]);

      // A reconnect in one integration moves only its version.
      const again = await readonly.upsertConnection(tokens(READONLY, "u1", { n: 2 }), at(1), connected);
      expect(again.created).toBe(false);
      expect(again.connection.version).toBe(2);
      expect((await store.getConnection("u1"))?.version).toBe(1);
    });

    it("leases, saves and revokes one integration's connection, leaving the other's alone", async () => {
      await setup();
      await store.upsertConnection(tokens("default", "u1"), T0, connected);
      await readonly.upsertConnection(tokens(READONLY, "u1"), T0, connected);

      const lease = { owner: "o1", version: 1, now: T0, leaseMs: MINUTE };
      expect(await readonly.claimRefreshLease("u1", lease)).toEqual({ claimed: true, takeover: false });
      expect((await readonly.getConnection("u1"))?.leaseOwner).toBe("o1");
      expect((await store.getConnection("u1"))?.leaseOwner).toBeNull();
      // The default's row is not leased: its own claim succeeds independently.
      expect(await store.claimRefreshLease("u1", { ...lease, owner: "o2" })).toEqual({
        claimed: true,
        takeover: false,
      });
      expect(
        await store.releaseRefreshLease("u1", { owner: "o2", failed: false, nextAttemptAt: null }),
      ).toBeUndefined();

      const rotated = tokens(READONLY, "u1", { n: 2 });
      expect(
        await readonly.saveRefreshedTokens("u1", { owner: "o1", version: 1, tokens: rotated, now: at(1000) }),
      ).toBe(true);
      expect(await readonly.getConnection("u1")).toMatchObject({
        version: 2,
        accessToken: rotated.accessToken,
        refreshToken: rotated.refreshToken,
        leaseOwner: null,
      });
      expect(await store.getConnection("u1")).toMatchObject({
        version: 1,
        accessToken: tokens("default", "u1").accessToken,
        refreshToken: tokens("default", "u1").refreshToken,
        leaseOwner: null,
      });
      // A save fenced on the default's version 1 is still the default's to make.
      expect(
        await store.saveRefreshedTokens("u1", {
          owner: "o2",
          version: 2,
          tokens: tokens("default", "u1", { n: 9 }),
          now: at(1000),
        }),
      ).toBe(false);

      expect(
        await readonly.revokeConnection(
          "u1",
          { reason: "disconnected", now: at(2000) },
          { type: "connection.deleted" },
        ),
      ).toBe("revoked");
      expect(await readonly.getConnection("u1")).toMatchObject({ status: "revoked", version: 3 });
      expect(await store.getConnection("u1")).toMatchObject({
        status: "active",
        version: 1,
        accessToken: tokens("default", "u1").accessToken,
      });
      expect(
        await readonly.revokeConnection(
          "u1",
          { reason: "disconnected", now: at(3000) },
          { type: "connection.deleted" },
        ),
      ).toBe("already_revoked");
      expect(
        await readonly.revokeConnection(
          "u2",
          { reason: "disconnected", now: at(3000) },
          { type: "connection.deleted" },
        ),
      ).toBe("not_found");
      // markReauthRequired is scoped as well.
      expect(
        await readonly.markReauthRequired(
          "u1",
          { version: 1, reason: "invalid_grant", now: at(4000) },
          { type: "connection.reauth_required" },
        ),
      ).toBe(false);
      expect((await store.getConnection("u1"))?.status).toBe("active");
    });

    it("sets metadata on one integration's connection only", async () => {
      await setup();
      await store.upsertConnection(tokens("default", "u1", { metadata: { a: 1 } }), T0, connected);
      await readonly.upsertConnection(tokens(READONLY, "u1"), T0, connected);
      expect(await readonly.setConnectionMetadata("u1", { b: 2 }, at(5))).toBe(true);
      expect((await readonly.getConnection("u1"))?.metadata).toEqual({ b: 2 });
      expect((await store.getConnection("u1"))?.metadata).toEqual({ a: 1 });
      expect(await readonly.setConnectionMetadata("only-default", { c: 3 }, at(5))).toBe(false);
      await store.upsertConnection(tokens("default", "only-default"), T0, connected);
      expect(await readonly.setConnectionMetadata("only-default", { c: 3 }, at(6))).toBe(false);
      expect((await store.getConnection("only-default"))?.metadata).toBeNull();
    });

    it("lists and scans each integration's connections; counts every integration's", async () => {
      await setup();
      for (const id of ["a", "b", "shared"])
        await store.upsertConnection(tokens("default", id), at(-10 * DAY), connected);
      for (const id of ["shared", "x"])
        await readonly.upsertConnection(tokens(READONLY, id), at(-20 * DAY), connected);
      await readonly.upsertConnection(tokens(READONLY, "fresh"), T0, connected);
      await readonly.markReauthRequired(
        "x",
        { version: 1, reason: "invalid_grant", now: T0 },
        { type: "connection.reauth_required" },
      );

      const defaults = await store.listConnections({ limit: 50 });
      expect(defaults.items.map((c) => [c.integration, c.identifier])).toEqual([
        ["default", "a"],
        ["default", "b"],
        ["default", "shared"],
      ]);
      const mine = await readonly.listConnections({ limit: 50 });
      expect(mine.items.map((c) => [c.integration, c.identifier, c.status])).toEqual([
        [READONLY, "fresh", "active"],
        [READONLY, "shared", "active"],
        [READONLY, "x", "reauth_required"],
      ]);
      // Paging stays inside the integration.
      const first = await readonly.listConnections({ limit: 1 });
      expect(first.items.map((c) => c.identifier)).toEqual(["fresh"]);
      const second = await readonly.listConnections({ limit: 5, after: first.nextCursor ?? undefined });
      expect(second.items.map((c) => c.identifier)).toEqual(["shared", "x"]);
      expect(second.nextCursor).toBeNull();
      expect(
        (await readonly.listConnections({ limit: 5, status: "active" })).items.map((c) => c.identifier),
      ).toEqual(["fresh", "shared"]);

      // Counts are per integration (the dashboard's filters); /metrics adds them up.
      expect(await store.countConnectionsByStatus()).toMatchObject({ active: 3, reauth_required: 0 });
      expect(await readonly.countConnectionsByStatus()).toMatchObject({ active: 2, reauth_required: 1 });

      const before = at(-7 * DAY);
      expect((await store.listDueForKeepAlive({ refreshedBefore: before, limit: 10 })).sort()).toEqual([
        "a",
        "b",
        "shared",
      ]);
      expect(await readonly.listDueForKeepAlive({ refreshedBefore: before, limit: 10 })).toEqual(["shared"]);
      expect(
        await store.forIntegration("other").listDueForKeepAlive({ refreshedBefore: before, limit: 10 }),
      ).toEqual([]);
    });

    it("keeps events per integration; the outbox says whose each is; metadata comes from the view's row", async () => {
      await setup({ webhookEvents: new Set(["connection.created", "connection.deleted"]) });
      await store.upsertConnection(tokens("default", "u1", { metadata: { side: "d" } }), T0, connected);
      await readonly.upsertConnection(tokens(READONLY, "u1", { metadata: { side: "r" } }), T0, connected);
      const note = await readonly.appendEvent("u1", { type: "connection.note", data: { n: 1 } });
      expect(note).toMatchObject({
        integration: READONLY,
        identifier: "u1",
        data: { n: 1, metadata: { side: "r" } },
      });
      await store.appendEvent("u1", { type: "other.note", data: { n: 2 } });
      await readonly.revokeConnection(
        "u1",
        { reason: "disconnected", now: at(1) },
        { type: "connection.deleted" },
      );

      const mine = await readonly.listEvents("u1", { limit: 10 });
      expect(mine.map((e) => [e.integration, e.type, e.data.metadata])).toEqual([
        [READONLY, "connection.deleted", { side: "r" }],
        [READONLY, "connection.note", { side: "r" }],
        [READONLY, "connection.created", { side: "r" }],
      ]);
      const defaults = await store.listEvents("u1", { limit: 10 });
      expect(defaults.map((e) => [e.integration, e.type, e.data.metadata])).toEqual([
        ["default", "other.note", undefined],
        ["default", "connection.created", { side: "d" }],
      ]);

      const claimed = await store.claimOutbox({ owner: "w", now: at(MINUTE), leaseMs: MINUTE, limit: 50 });
      expect(claimed.map((e) => [e.integration, e.identifier, e.type, e.data.metadata])).toEqual([
        ["default", "u1", "connection.created", { side: "d" }],
        [READONLY, "u1", "connection.created", { side: "r" }],
        [READONLY, "u1", "connection.deleted", { side: "r" }],
      ]);
    });

    it("carries a view's integration through the connect flow", async () => {
      await setup();
      const link = {
        tokenHash: "th-r",
        identifier: "u1",
        scopes: ["data.records:read"],
        returnUrl: null,
        expiresAt: at(30 * MINUTE),
      };
      await readonly.createConnectSession(link);
      await store.createConnectSession({ ...link, tokenHash: "th-d" });
      expect(await store.findLiveConnectSession("th-r", T0)).toMatchObject({
        integration: READONLY,
        identifier: "u1",
      });
      expect(await readonly.findLiveConnectSession("th-d", T0)).toMatchObject({ integration: "default" });
      // The read used nothing: the link is consumed once, by whoever holds the store.
      expect(await store.consumeConnectSession("th-r", T0)).toMatchObject({
        integration: READONLY,
        identifier: "u1",
      });
      expect(await store.consumeConnectSession("th-r", T0)).toBeNull();
      expect(await store.findLiveConnectSession("th-r", T0)).toBeNull();

      await readonly.createPendingAuthorization({
        stateHash: "sh-r",
        identifier: "u1",
        scopes: [],
        returnUrl: null,
        codeVerifier: "v".repeat(43),
        browserBindingHash: "b",
        expiresAt: at(10 * MINUTE),
      });
      expect(await store.getPendingAuthorization("sh-r")).toMatchObject({
        integration: READONLY,
        identifier: "u1",
        codeVerifier: "v".repeat(43),
      });

      // The readonly link was opened and its authorization is out; the default's link is untouched.
      expect(await readonly.latestConnectAttempt("u1")).toMatchObject({
        openedAt: T0,
        authorizationExpiresAt: at(10 * MINUTE),
        returnedAt: null,
      });
      expect(await store.latestConnectAttempt("u1")).toMatchObject({
        openedAt: null,
        authorizationExpiresAt: null,
      });
      expect(await store.forIntegration("other").latestConnectAttempt("u1")).toBeNull();
    });

    it("creates and lists Airtable webhooks per integration", async () => {
      await setup();
      await store.upsertConnection(tokens("default", "u1"), T0, connected);
      await readonly.upsertConnection(tokens(READONLY, "u1"), T0, connected);
      const webhook = (id: string) => ({
        id,
        identifier: "u1",
        baseId: "appABCDEFGHIJKLMN",
        specification: { options: { filters: { dataTypes: ["tableData"] } } },
        notificationUrl: `http://localhost/airtable/notifications/${id}`,
        now: T0,
      });
      await readonly.createAirtableWebhook(webhook("awh_r"));
      await store.createAirtableWebhook(webhook("awh_d"));
      expect(await store.getAirtableWebhook("awh_r")).toMatchObject({
        integration: READONLY,
        identifier: "u1",
      });
      expect(await readonly.getAirtableWebhook("awh_d")).toMatchObject({ integration: "default" });
      expect((await readonly.listAirtableWebhooks("u1")).map((w) => [w.id, w.integration])).toEqual([
        ["awh_r", READONLY],
      ]);
      expect((await store.listAirtableWebhooks("u1")).map((w) => [w.id, w.integration])).toEqual([
        ["awh_d", "default"],
      ]);

      // A payload page is the webhook's integration's event, wherever the worker's store points.
      for (const id of ["awh_r", "awh_d"]) {
        await store.activateAirtableWebhook(id, {
          airtableWebhookId: `ach${id}`,
          macSecret: "c2VjcmV0",
          expirationTime: at(7 * DAY),
          now: T0,
        });
      }
      const fetch = {
        owner: "A",
        now: at(1000),
        leaseMs: MINUTE,
        work: { kind: "fetch" as const, pollBefore: at(0) },
      };
      expect(await store.claimAirtableWebhookLease("awh_r", fetch)).toMatchObject({ integration: READONLY });
      expect(
        await store.saveAirtablePayloadPage("awh_r", {
          owner: "A",
          cursor: 1,
          nextCursor: 2,
          event: { type: "airtable.payloads", data: { cursor: 1 }, ordering: { key: "awh_r", seq: 1 } },
          now: at(1000),
          leaseMs: MINUTE,
        }),
      ).toBe(true);
      expect((await readonly.listEvents("u1", { limit: 10 })).map((e) => [e.integration, e.type])).toEqual([
        [READONLY, "airtable.payloads"],
        [READONLY, "connection.created"],
      ]);
      expect((await store.listEvents("u1", { limit: 10 })).map((e) => e.type)).toEqual([
        "connection.created",
      ]);
      await store.releaseAirtableWebhookLease("awh_r", {
        kind: "yielded",
        owner: "A",
        now: at(1000),
      });

      // Revoking the readonly connection pauses its webhook only, though the default's u1 is active.
      const due = () =>
        store.listAirtableWebhooksDue({
          now: at(2000),
          refreshBefore: at(0),
          pollBefore: at(2000),
          limit: 10,
        });
      expect((await due()).sort()).toEqual(["awh_d", "awh_r"]);
      await readonly.revokeConnection(
        "u1",
        { reason: "disconnected", now: at(1500) },
        { type: "connection.deleted" },
      );
      expect(await due()).toEqual(["awh_d"]);
      expect(
        await store.claimAirtableWebhookLease("awh_r", {
          ...fetch,
          now: at(2000),
          work: { kind: "fetch", pollBefore: at(2000) },
        }),
      ).toBeNull();
    });

    it("binds a token's ciphertext to its integration", async () => {
      await setup();
      await store.upsertConnection(tokens("default", "u1"), T0, connected);
      await readonly.upsertConnection(tokens(READONLY, "u1"), T0, connected);
      await db.query(
        "UPDATE connections SET access_token_enc = (SELECT access_token_enc FROM connections WHERE integration_id = 'default' AND identifier = $1) WHERE integration_id = 'readonly' AND identifier = $2",
        ["u1", "u1"],
      );
      const copied = await readonly.getConnection("u1").catch((e: unknown) => e);
      expect(isAirlockError(copied, "config_invalid")).toBe(true);
      expect(String((copied as Error).message)).not.toContain("access-secret");
      // The default's row, whose ciphertext it is, still reads.
      expect((await store.getConnection("u1"))?.accessToken).toBe(tokens("default", "u1").accessToken);
    });

    it("tells a view's listeners about its integration's changes only", async () => {
      await setup();
      // PostgreSQL: another instance writes (NOTIFY across connections); SQLite announces in-process.
      const writer = target.name === "postgres" ? await db.open() : store;
      const writerView = writer.forIntegration(READONLY);
      const heardReadonly: Array<[string, number]> = [];
      const heardDefault: Array<[string, number]> = [];
      const stopReadonly = readonly.onConnectionChanged((id, version) => heardReadonly.push([id, version]));
      const stopDefault = store.onConnectionChanged((id, version) => heardDefault.push([id, version]));
      await readonly.whenListening();
      await store.whenListening();

      await writer.upsertConnection(tokens("default", "u1"), T0, connected);
      await writerView.upsertConnection(tokens(READONLY, "u1"), T0, connected);
      await writer.upsertConnection(tokens("default", "u1", { n: 2 }), at(1), connected);
      await writer.upsertConnection(tokens("default", "u1", { n: 3 }), at(2), connected);
      await writerView.claimRefreshLease("u1", { owner: "o", version: 1, now: T0, leaseMs: MINUTE });
      await writerView.saveRefreshedTokens("u1", {
        owner: "o",
        version: 1,
        tokens: tokens(READONLY, "u1", { n: 2 }),
        now: at(3),
      });
      await writer.forIntegration("other").upsertConnection(tokens("other", "u1"), T0, connected);
      await writerView.revokeConnection(
        "u1",
        { reason: "disconnected", now: at(4) },
        { type: "connection.deleted" },
      );

      await until(
        () => heardReadonly.length >= 3 && heardDefault.length >= 3,
        "both listeners hearing three changes",
      );
      // Whatever else could arrive has had the time to.
      await new Promise((r) => setTimeout(r, 200));
      expect(heardReadonly).toEqual([
        ["u1", 1],
        ["u1", 2],
        ["u1", 3],
      ]);
      expect(heardDefault).toEqual([
        ["u1", 1],
        ["u1", 2],
        ["u1", 3],
      ]);
      stopReadonly();
      stopDefault();
    });

    it("prunes events per connection of each integration: each keeps its newest", async () => {
      await setup();
      await store.upsertConnection(tokens("default", "u1"), at(-40 * DAY), connected);
      await readonly.upsertConnection(tokens(READONLY, "u1"), at(-39 * DAY), connected);
      // Each integration's u1 has one event, its newest: neither goes, though the readonly one is newer.
      expect(await store.pruneEvents({ before: T0 })).toBe(0);
      await store.upsertConnection(tokens("default", "u1", { n: 2 }), at(-38 * DAY), connected);
      expect(await store.pruneEvents({ before: T0 })).toBe(1);
      expect((await store.listEvents("u1", { limit: 10 })).map((e) => e.type)).toEqual([
        "connection.recovered",
      ]);
      expect((await readonly.listEvents("u1", { limit: 10 })).map((e) => e.type)).toEqual([
        "connection.created",
      ]);
    });

    it("re-encrypts past a page boundary inside one integration, then the next integration's", async () => {
      await setup();
      // In (integration, identifier) order the first page of 200 ends inside the default's 210 rows;
      // the rest of the default's follow, then readonly's, whose identifiers sort before the boundary.
      const id = (i: number) => `p${String(i).padStart(3, "0")}`;
      for (let i = 0; i < 210; i++) await store.upsertConnection(tokens("default", id(i)), T0, connected);
      for (let i = 0; i < 20; i++) await readonly.upsertConnection(tokens(READONLY, id(i)), T0, connected);
      const newKey = generateKeyringValue("k2");
      const both = await openStore(db.url, { keyring: parseEncryptionKeys(`${newKey},${db.keys}`) });
      try {
        expect(await both.reencryptAll()).toBe(230);
        expect(await both.reencryptAll()).toBe(0);
      } finally {
        await both.close();
      }
      const left = await db.query(
        "SELECT identifier FROM connections WHERE access_token_enc NOT LIKE 'v1.k2.%'",
      );
      expect(left).toEqual([]);
    }, 60_000);

    it("re-encrypts every integration's connections under the new key", async () => {
      await setup();
      await store.upsertConnection(tokens("default", "u1"), T0, connected);
      await readonly.upsertConnection(tokens(READONLY, "u1"), T0, connected);
      await readonly.upsertConnection(tokens(READONLY, "only-r"), T0, connected);
      const newKey = generateKeyringValue("k2");
      const both = await openStore(db.url, { keyring: parseEncryptionKeys(`${newKey},${db.keys}`) });
      try {
        expect(await both.reencryptAll()).toBe(3);
        expect(await both.reencryptAll()).toBe(0);
      } finally {
        await both.close();
      }
      const rows = await db.query<{ integration_id: string; identifier: string; a: string; r: string }>(
        "SELECT integration_id, identifier, access_token_enc AS a, refresh_token_enc AS r FROM connections ORDER BY integration_id, identifier",
      );
      expect(rows.map((row) => [row.integration_id, row.identifier])).toEqual([
        ["default", "u1"],
        [READONLY, "only-r"],
        [READONLY, "u1"],
      ]);
      for (const row of rows) {
        expect(row.a.startsWith("v1.k2.")).toBe(true);
        expect(row.r.startsWith("v1.k2.")).toBe(true);
      }
      const onlyNew = await openStore(db.url, { keyring: parseEncryptionKeys(newKey) });
      try {
        expect(await onlyNew.getConnection("u1")).toMatchObject({
          integration: "default",
          accessToken: tokens("default", "u1").accessToken,
          refreshToken: tokens("default", "u1").refreshToken,
        });
        for (const id of ["u1", "only-r"]) {
          expect(await onlyNew.forIntegration(READONLY).getConnection(id)).toMatchObject({
            integration: READONLY,
            accessToken: tokens(READONLY, id).accessToken,
            refreshToken: tokens(READONLY, id).refreshToken,
          });
        }
      } finally {
        await onlyNew.close();
      }
      // The old key alone reads nothing any more.
      expect(
        isAirlockError(await readonly.getConnection("u1").catch((e: unknown) => e), "config_invalid"),
      ).toBe(true);
    });
  });
}

// Migration 0009 on a database that 0008 left ------------------------------------------------------

interface OldDatabase {
  /** What openStore is given. */
  url: string;
  /** A Kysely on the database, migrated to 0008 (destroy it before openStore). */
  kysely: Kysely<unknown>;
  /** Raw SQL on the database (`$1` placeholders), for the catalog. */
  query(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  cleanup(): Promise<void>;
}

async function sqliteAt0008(): Promise<OldDatabase> {
  const dir = mkdtempSync(join(tmpdir(), "airlock-integrations-"));
  const file = join(dir, "airlock.db");
  const kysely = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new BetterSqlite3(file) }) });
  const migrator = new Migrator({ db: kysely, provider: migrationProvider("sqlite") });
  const { error } = await migrator.migrateTo("0008_expected_email");
  if (error) throw error;
  let raw: BetterSqlite3.Database | undefined;
  return {
    url: file,
    kysely,
    async query(text, params = []) {
      raw ??= new BetterSqlite3(file, { timeout: 5000 });
      return raw.prepare(text.replace(/\$\d+/g, "?")).all(...params) as Record<string, unknown>[];
    },
    async cleanup() {
      raw?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postgresAt0008(): Promise<OldDatabase> {
  const schema = await createTestSchema("integr_mig");
  const pool = new pg.Pool({
    connectionString: requireTestDatabaseUrl(),
    options: `-c search_path=${schema.schema}`,
    max: 2,
  });
  const kysely = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  const migrator = new Migrator({
    db: kysely,
    provider: migrationProvider("postgres"),
    migrationTableSchema: schema.schema,
  });
  const { error } = await migrator.migrateTo("0008_expected_email");
  if (error) throw error;
  return {
    url: schema.url,
    kysely,
    query: (text, params) => schema.query(text, params),
    cleanup: () => schema.drop(),
  };
}

for (const target of storeTargets("migration 0009_integrations")) {
  describe.skipIf(target.skip)(`migration 0009_integrations (${target.name})`, () => {
    let old: OldDatabase | undefined;
    let opened: SqlStore | undefined;
    afterEach(async () => {
      await opened?.close();
      await old?.cleanup();
      opened = undefined;
      old = undefined;
    });

    it("keeps a 0008 database's rows as the default integration's", async () => {
      old = target.name === "postgres" ? await postgresAt0008() : await sqliteAt0008();
      const keys = generateKeyringValue("k1");
      const keyring = parseEncryptionKeys(keys);
      const id = "legacy";
      const t = T0.getTime();
      const accessEnc = keyring.encrypt("old-access", encryptionContext("connections", "access_token", id));
      const refreshEnc = keyring.encrypt(
        "old-refresh",
        encryptionContext("connections", "refresh_token", id),
      );
      await sql`INSERT INTO connections (identifier, status, status_reason, scopes, airtable_user_id, email,
          access_token_enc, refresh_token_enc, access_token_expires_at, refresh_token_expires_at,
          last_refreshed_at, created_at, updated_at, version, lease_owner, lease_until, lease_takeover,
          refresh_failures, next_refresh_attempt_at, metadata)
        VALUES (${id}, 'active', NULL, '["data.records:read"]', 'usrOLD', 'old@example.com',
          ${accessEnc}, ${refreshEnc}, ${t + 60 * MINUTE}, ${t + 60 * DAY},
          ${t - 10 * DAY}, ${t - 30 * DAY}, ${t - 10 * DAY}, 7, NULL, NULL, 0, 0, NULL, '{"plan":"old"}')`.execute(
        old.kysely,
      );
      await sql`INSERT INTO connect_sessions (token_hash, identifier, scopes, return_url, expires_at, created_at,
          used_at, metadata, expected_email)
        VALUES ('th-old', ${id}, '[]', NULL, ${Date.now() + 60 * MINUTE}, ${t}, NULL, NULL, NULL)`.execute(
        old.kysely,
      );
      await sql`INSERT INTO events (id, identifier, type, data, created_at, webhook_state, attempts,
          next_attempt_at, lease_owner, lease_until, last_error, delivered_at, ordering_key, ordering_seq)
        VALUES ('evt_000000000001old', ${id}, 'connection.created', '{"x":1}', ${t - 30 * DAY}, NULL, 0,
          NULL, NULL, NULL, NULL, NULL, NULL, NULL)`.execute(old.kysely);
      await old.kysely.destroy();

      opened = await openStore(old.url, { keyring });
      const store = opened;
      expect(await store.getConnection(id)).toMatchObject({
        integration: "default",
        identifier: id,
        status: "active",
        accessToken: "old-access",
        refreshToken: "old-refresh",
        version: 7,
        email: "old@example.com",
        metadata: { plan: "old" },
        lastRefreshedAt: new Date(t - 10 * DAY),
      });
      expect(await store.listEvents(id, { limit: 10 })).toMatchObject([
        { id: "evt_000000000001old", integration: "default", type: "connection.created", data: { x: 1 } },
      ]);
      expect(await store.listDueForKeepAlive({ refreshedBefore: at(-7 * DAY), limit: 10 })).toEqual([id]);
      expect(await store.consumeConnectSession("th-old", new Date())).toMatchObject({
        integration: "default",
        identifier: id,
      });

      // The primary key is (integration, identifier) now: the same identifier in another integration.
      const readonly = store.forIntegration(READONLY);
      const made = await readonly.upsertConnection(tokens(READONLY, id), T0, connected);
      expect(made.created).toBe(true);
      expect((await readonly.getConnection(id))?.accessToken).toBe(tokens(READONLY, id).accessToken);
      expect(await store.getConnection(id)).toMatchObject({ version: 7, accessToken: "old-access" });
      // Reconnecting the old one is still a reconnect in place, not a second row.
      const again = await store.upsertConnection(tokens("default", id), at(1), connected);
      expect(again.created).toBe(false);
      expect(again.connection.version).toBe(8);
      expect(await store.countConnectionsByStatus()).toMatchObject({ active: 1 });
      expect(await readonly.countConnectionsByStatus()).toMatchObject({ active: 1 });

      // The keep-alive index leads with the integration; SQLite's rebuild leaves no table behind.
      const [index] =
        target.name === "postgres"
          ? await old.query(
              "SELECT indexdef AS def FROM pg_indexes WHERE indexname = 'connections_keep_alive_due'",
            )
          : await old.query("SELECT sql AS def FROM sqlite_master WHERE name = 'connections_keep_alive_due'");
      expect(String(index?.def).replace(/["`]/g, "")).toMatch(
        /\(integration_id, status, last_refreshed_at\)/,
      );
      if (target.name === "sqlite") {
        const tables = await old.query(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'connections%'",
        );
        expect(tables.map((t) => t.name)).toEqual(["connections"]);
      }
      // The other tables' old rows are the default's too, as stored.
      expect(
        await old.query("SELECT integration_id FROM connect_sessions WHERE token_hash = 'th-old'"),
      ).toEqual([{ integration_id: "default" }]);
      expect(await old.query("SELECT integration_id FROM events WHERE id = 'evt_000000000001old'")).toEqual([
        { integration_id: "default" },
      ]);
    });
  });
}

/**
 * The Store contract, run against SQLite (a temp file) and PostgreSQL (a schema of its own on
 * AIRLOCK_TEST_DATABASE_URL). Real databases, raw reads of what is actually stored.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { connectionTokens } from "../../test/support/connection-tokens.js";
import { announcePostgresSkip, createTestSchema, TEST_DATABASE_URL } from "../../test/support/postgres.js";
import { isAirlockError } from "../shared/errors.js";
import { generateKeyringValue, type Keyring, parseEncryptionKeys } from "./crypto.js";
import { openStore } from "./index.js";
import type { SqlStore } from "./sql-store.js";

interface Harness {
  /** PostgreSQL: the test's schema. */
  schema?: string;
  /** Opens (and migrates) another store on the same database. */
  open(options?: { keyring?: Keyring; webhookEvents?: ReadonlySet<string> }): Promise<SqlStore>;
  /** Raw SQL, `?` placeholders. */
  raw(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** Everything the database holds for us, as text (files on SQLite, rows on PostgreSQL). */
  dump(): Promise<string>;
  cleanup(): Promise<void>;
}

const KEYS = generateKeyringValue("k1");
const keyring = parseEncryptionKeys(KEYS);
const T0 = new Date("2026-01-01T00:00:00Z");
const at = (ms: number) => new Date(T0.getTime() + ms);

const tokens = (identifier: string, n = 1) =>
  connectionTokens(identifier, { now: T0, n, scopes: ["data.records:read", "schema.bases:read"] });

const created = (isNew: boolean) => ({ type: isNew ? "connection.created" : "connection.recovered" });

async function sqliteHarness(): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), "airlock-store-"));
  const file = join(dir, "airlock.db");
  const stores: SqlStore[] = [];
  let rawDb: BetterSqlite3.Database | undefined;
  return {
    async open(options = {}) {
      const store = await openStore(file, {
        keyring: options.keyring ?? keyring,
        webhookEvents: options.webhookEvents,
      });
      stores.push(store);
      return store;
    },
    async raw(text, params = []) {
      rawDb ??= new BetterSqlite3(file);
      const stmt = rawDb.prepare(text);
      if (stmt.reader) return stmt.all(...params) as Record<string, unknown>[];
      stmt.run(...params);
      return [];
    },
    async dump() {
      return ["", "-wal", "-shm"]
        .map((suffix) => file + suffix)
        .filter((path) => existsSync(path))
        .map((path) => readFileSync(path).toString("latin1"))
        .join("\n");
    },
    async cleanup() {
      rawDb?.close();
      for (const store of stores) await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postgresHarness(): Promise<Harness> {
  const db = await createTestSchema("store");
  const stores: SqlStore[] = [];
  return {
    schema: db.schema,
    async open(options = {}) {
      const store = await openStore(db.url, {
        keyring: options.keyring ?? keyring,
        webhookEvents: options.webhookEvents,
      });
      stores.push(store);
      return store;
    },
    async raw(text, params = []) {
      let n = 0;
      return db.query(
        text.replace(/\?/g, () => `$${++n}`),
        params,
      );
    },
    async dump() {
      const parts: string[] = [];
      for (const table of ["connections", "events", "pending_authorizations", "connect_sessions"]) {
        const rows = await db.query<{ row: string }>(`select row_to_json(t)::text as row from ${table} t`);
        parts.push(...rows.map((r) => r.row));
      }
      return parts.join("\n");
    },
    async cleanup() {
      for (const store of stores) await store.close();
      await db.drop();
    },
  };
}

announcePostgresSkip("store contract (src/store/store.test.ts)");

const targets: Array<{ name: string; skip: boolean; harness: () => Promise<Harness> }> = [
  { name: "sqlite", skip: false, harness: sqliteHarness },
  { name: "postgres", skip: !TEST_DATABASE_URL, harness: postgresHarness },
];

for (const target of targets) {
  describe.skipIf(target.skip)(`Store contract: ${target.name}`, () => {
    let h: Harness;
    const setup = async (options?: { webhookEvents?: ReadonlySet<string> }) => {
      h = await target.harness();
      return h.open(options);
    };
    afterEach(async () => {
      await h?.cleanup();
    });

    it("migrates idempotently, also when several instances start at once", async () => {
      const first = await setup();
      const others = await Promise.all([h.open(), h.open(), h.open()]);
      await first.migrate();
      expect(others.map((s) => s.kind)).toEqual([target.name, target.name, target.name]);
      await first.upsertConnection(tokens("u1"), T0, created);
      expect((await others[2]!.getConnection("u1"))?.email).toBe("u1@example.com");
    });

    it("creates a connection, then reconnects it in place", async () => {
      const store = await setup();
      const first = await store.upsertConnection(tokens("u1"), T0, created);
      expect(first.created).toBe(true);
      expect(first.connection).toMatchObject({
        identifier: "u1",
        status: "active",
        version: 1,
        scopes: ["data.records:read", "schema.bases:read"],
        accessToken: tokens("u1").accessToken,
        refreshToken: tokens("u1").refreshToken,
        lastRefreshedAt: T0,
      });
      expect(
        await store.markReauthRequired(
          "u1",
          { version: 1, reason: "invalid_grant", now: T0 },
          { type: "connection.reauth_required" },
        ),
      ).toBe(true);
      const again = await store.upsertConnection(tokens("u1", 2), at(1000), created);
      expect(again.created).toBe(false);
      expect(again.connection).toMatchObject({
        status: "active",
        statusReason: null,
        version: 3,
        createdAt: T0,
      });
      expect(again.connection.accessToken).toBe(tokens("u1", 2).accessToken);
      const types = (await store.listEvents("u1", { limit: 10 })).map((e) => e.type);
      expect(types).toEqual(["connection.recovered", "connection.reauth_required", "connection.created"]);
      expect(await store.getConnection("nobody")).toBeNull();
    });

    it("stores only ciphertext: no token or verifier appears in the database", async () => {
      const store = await setup();
      const t = tokens("u1");
      await store.upsertConnection(t, T0, created);
      await store.claimRefreshLease("u1", { owner: "o", version: 1, now: T0, leaseMs: 1000 });
      const t2 = tokens("u1", 2);
      await store.saveRefreshedTokens("u1", { owner: "o", version: 1, tokens: t2, now: T0 });
      const verifier = `verifier-${"v".repeat(40)}`;
      await store.createPendingAuthorization({
        stateHash: "sh1",
        identifier: "u1",
        scopes: [],
        returnUrl: null,
        codeVerifier: verifier,
        browserBindingHash: "bh",
        expiresAt: at(60_000),
      });
      expect((await store.getPendingAuthorization("sh1"))?.codeVerifier).toBe(verifier);
      const dump = await h.dump();
      expect(dump.length).toBeGreaterThan(0);
      for (const secret of [t.accessToken, t.refreshToken, t2.accessToken, t2.refreshToken, verifier]) {
        expect(dump).not.toContain(secret);
      }
      const [row] = await h.raw(
        "select access_token_enc, refresh_token_enc from connections where identifier = ?",
        ["u1"],
      );
      expect(String(row?.access_token_enc)).toMatch(/^v1\.k1\.[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(String(row?.refresh_token_enc)).toMatch(/^v1\.k1\./);
    });

    it("binds each ciphertext to its row and column", async () => {
      const store = await setup();
      await store.upsertConnection(tokens("victim"), T0, created);
      await store.upsertConnection(tokens("attacker"), T0, created);
      // Another row's ciphertext pasted into this row fails instead of leaking the victim's token.
      await h.raw(
        "update connections set refresh_token_enc = (select refresh_token_enc from connections where identifier = ?) where identifier = ?",
        ["victim", "attacker"],
      );
      const moved = await store.getConnection("attacker").catch((e: unknown) => e);
      expect(isAirlockError(moved, "config_invalid")).toBe(true);
      expect(String((moved as Error).message)).not.toContain("refresh-secret");
      // The access-token column's ciphertext in the refresh-token column fails too.
      await h.raw("update connections set refresh_token_enc = access_token_enc where identifier = ?", [
        "victim",
      ]);
      expect(
        isAirlockError(await store.getConnection("victim").catch((e: unknown) => e), "config_invalid"),
      ).toBe(true);
    });

    it("rotates keys: reencryptAll, then the new key alone decrypts everything", async () => {
      const store = await setup();
      for (const id of ["a", "b", "c"]) await store.upsertConnection(tokens(id), T0, created);
      await store.createPendingAuthorization({
        stateHash: "s1",
        identifier: "a",
        scopes: [],
        returnUrl: null,
        codeVerifier: "the-verifier",
        browserBindingHash: "b",
        expiresAt: at(1000),
      });
      const newKey = generateKeyringValue("k2");
      const both = await h.open({ keyring: parseEncryptionKeys(`${newKey},${KEYS}`) });
      expect(await both.getConnection("a")).toMatchObject({ refreshToken: tokens("a").refreshToken });
      expect(await both.reencryptAll()).toBe(4);
      expect(await both.reencryptAll()).toBe(0);
      const onlyNew = await h.open({ keyring: parseEncryptionKeys(newKey) });
      for (const id of ["a", "b", "c"]) {
        expect(await onlyNew.getConnection(id)).toMatchObject({
          accessToken: tokens(id).accessToken,
          refreshToken: tokens(id).refreshToken,
        });
      }
      expect((await onlyNew.getPendingAuthorization("s1"))?.codeVerifier).toBe("the-verifier");
      const rows = await h.raw("select access_token_enc from connections");
      expect(rows.every((r) => String(r.access_token_enc).startsWith("v1.k2."))).toBe(true);
      // The old key alone no longer reads anything, and says which key is missing.
      const err = await store.getConnection("a").catch((e: unknown) => e);
      expect(isAirlockError(err, "config_invalid")).toBe(true);
      expect((err as Error).message).toContain('"k2"');
    });

    it("grants a refresh lease to exactly one of many concurrent claimers", async () => {
      const store = await setup();
      await store.upsertConnection(tokens("u1"), T0, created);
      const others = await Promise.all([h.open(), h.open()]);
      const claimers = [store, ...others];
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          claimers[i % claimers.length]!.claimRefreshLease("u1", {
            owner: `o${i}`,
            version: 1,
            now: T0,
            leaseMs: 30_000,
          }),
        ),
      );
      expect(results.filter((r) => r.claimed)).toHaveLength(1);
      const row = await store.getConnection("u1");
      expect(row?.leaseOwner).toMatch(/^o\d+$/);
      expect(row?.leaseUntil).toEqual(at(30_000));
      // A stale version never claims.
      await store.releaseRefreshLease("u1", { owner: row!.leaseOwner!, failed: false, nextAttemptAt: null });
      expect(await store.claimRefreshLease("u1", { owner: "x", version: 7, now: T0, leaseMs: 1 })).toEqual({
        claimed: false,
      });
    });

    it("recognises a takeover of an expired lease, and keeps saying so until a refresh succeeds", async () => {
      const store = await setup();
      await store.upsertConnection(tokens("u1"), T0, created);
      expect(await store.claimRefreshLease("u1", { owner: "a", version: 1, now: T0, leaseMs: 1000 })).toEqual(
        {
          claimed: true,
          takeover: false,
        },
      );
      // Live lease: nobody else.
      expect(
        (await store.claimRefreshLease("u1", { owner: "b", version: 1, now: at(999), leaseMs: 1000 }))
          .claimed,
      ).toBe(false);
      // "a" died without releasing: the lease expires and "b" takes over.
      expect(
        await store.claimRefreshLease("u1", { owner: "b", version: 1, now: at(1000), leaseMs: 1000 }),
      ).toEqual({
        claimed: true,
        takeover: true,
      });
      // "a" can no longer renew: the lease is b's now.
      expect(await store.renewRefreshLease("u1", { owner: "a", version: 1, until: at(9000) })).toBe(false);
      await store.releaseRefreshLease("u1", { owner: "b", failed: true, nextAttemptAt: at(5000) });
      expect(await store.getConnection("u1")).toMatchObject({
        leaseOwner: null,
        leaseUntil: null,
        refreshFailures: 1,
        nextRefreshAttemptAt: at(5000),
        status: "active",
      });
      expect(
        await store.claimRefreshLease("u1", { owner: "c", version: 1, now: at(6000), leaseMs: 1000 }),
      ).toEqual({
        claimed: true,
        takeover: true,
      });
      expect(
        await store.saveRefreshedTokens("u1", {
          owner: "c",
          version: 1,
          tokens: tokens("u1", 2),
          now: at(6500),
        }),
      ).toBe(true);
      expect(
        await store.claimRefreshLease("u1", { owner: "d", version: 2, now: at(7000), leaseMs: 1000 }),
      ).toEqual({
        claimed: true,
        takeover: false,
      });
    });

    it("reports a takeover after an uncertain release (the request may have rotated)", async () => {
      const store = await setup();
      await store.upsertConnection(tokens("u1"), T0, created);
      await store.claimRefreshLease("u1", { owner: "a", version: 1, now: T0, leaseMs: 1000 });
      await store.releaseRefreshLease("u1", {
        owner: "a",
        failed: true,
        nextAttemptAt: at(10),
        uncertain: true,
      });
      // The backoff binds everyone until it is over.
      expect(
        (await store.claimRefreshLease("u1", { owner: "b", version: 1, now: at(9), leaseMs: 1000 })).claimed,
      ).toBe(false);
      expect(
        await store.claimRefreshLease("u1", { owner: "b", version: 1, now: at(20), leaseMs: 1000 }),
      ).toEqual({
        claimed: true,
        takeover: true,
      });
      // A release by someone who no longer owns the lease changes nothing.
      await store.releaseRefreshLease("u1", { owner: "a", failed: true, nextAttemptAt: null });
      expect(await store.getConnection("u1")).toMatchObject({ leaseOwner: "b", refreshFailures: 1 });
    });

    it("renews a lease only for its owner, on its version", async () => {
      const store = await setup();
      await store.upsertConnection(tokens("u1"), T0, created);
      await store.claimRefreshLease("u1", { owner: "o", version: 1, now: T0, leaseMs: 1000 });
      expect(await store.renewRefreshLease("u1", { owner: "x", version: 1, until: at(5000) })).toBe(false);
      expect(await store.renewRefreshLease("u1", { owner: "o", version: 2, until: at(5000) })).toBe(false);
      expect(await store.renewRefreshLease("u1", { owner: "o", version: 1, until: at(5000) })).toBe(true);
      expect(await store.getConnection("u1")).toMatchObject({ leaseOwner: "o", leaseUntil: at(5000) });
      // Renewed: still nobody else at a time the first lease would have ended.
      expect(
        (await store.claimRefreshLease("u1", { owner: "y", version: 1, now: at(2000), leaseMs: 1000 }))
          .claimed,
      ).toBe(false);
    });

    it("saves a rotation whose lease was taken over: fenced on the version alone", async () => {
      const store = await setup();
      await store.upsertConnection(tokens("u1"), T0, created);
      await store.claimRefreshLease("u1", { owner: "a", version: 1, now: T0, leaseMs: 1000 });
      await store.claimRefreshLease("u1", { owner: "b", version: 1, now: at(1000), leaseMs: 1000 });
      // a's tokens came from version 1's refresh token, which Airtable accepts once: they win.
      const update = { owner: "a", version: 1, tokens: tokens("u1", 2), now: at(1500) };
      expect(await store.saveRefreshedTokens("u1", update)).toBe(true);
      expect(await store.getConnection("u1")).toMatchObject({ version: 2, leaseOwner: null });
      // b's later save on the old version is refused.
      expect(await store.saveRefreshedTokens("u1", { ...update, owner: "b", tokens: tokens("u1", 3) })).toBe(
        false,
      );
      expect((await store.getConnection("u1"))?.accessToken).toBe(tokens("u1", 2).accessToken);
    });

    it("fences saves on the version, and resets the failure bookkeeping", async () => {
      const store = await setup();
      await store.upsertConnection(tokens("u1"), T0, created);
      await store.claimRefreshLease("u1", { owner: "o", version: 1, now: T0, leaseMs: 1000 });
      await store.releaseRefreshLease("u1", { owner: "o", failed: true, nextAttemptAt: at(10) });
      await store.claimRefreshLease("u1", { owner: "o2", version: 1, now: at(20), leaseMs: 1000 });
      const update = { owner: "o2", version: 1, tokens: tokens("u1", 2), now: at(30) };
      expect(await store.saveRefreshedTokens("u1", { ...update, version: 0 })).toBe(false);
      expect(await store.saveRefreshedTokens("u1", update, { type: "connection.refreshed" })).toBe(true);
      expect(await store.saveRefreshedTokens("u1", update)).toBe(false);
      expect(await store.getConnection("u1")).toMatchObject({
        version: 2,
        accessToken: tokens("u1", 2).accessToken,
        refreshToken: tokens("u1", 2).refreshToken,
        lastRefreshedAt: at(30),
        leaseOwner: null,
        refreshFailures: 0,
        nextRefreshAttemptAt: null,
      });
      expect((await store.listEvents("u1", { limit: 1 }))[0]?.type).toBe("connection.refreshed");
    });

    it("marks reauth_required once, fenced on the version", async () => {
      const store = await setup();
      await store.upsertConnection(tokens("u1"), T0, created);
      const event = { type: "connection.reauth_required", data: { reason: "invalid_grant" } };
      expect(
        await store.markReauthRequired("u1", { version: 9, reason: "invalid_grant", now: T0 }, event),
      ).toBe(false);
      const marks = await Promise.all(
        [1, 2, 3].map(() =>
          store.markReauthRequired("u1", { version: 1, reason: "invalid_grant", now: T0 }, event),
        ),
      );
      expect(marks.filter(Boolean)).toHaveLength(1);
      expect(await store.getConnection("u1")).toMatchObject({
        status: "reauth_required",
        statusReason: "invalid_grant",
      });
      const events = await store.listEvents("u1", { limit: 10 });
      expect(events.filter((e) => e.type === "connection.reauth_required")).toHaveLength(1);
      expect(events[0]?.data).toEqual({ reason: "invalid_grant" });
      // No lease on a dead connection.
      expect(
        (await store.claimRefreshLease("u1", { owner: "o", version: 2, now: T0, leaseMs: 1 })).claimed,
      ).toBe(false);
    });

    it("consumes connect sessions and pending authorizations exactly once, and purges expired ones", async () => {
      const store = await setup();
      await store.createConnectSession({
        tokenHash: "t1",
        identifier: "u1",
        scopes: ["a"],
        returnUrl: "https://app/x",
        expiresAt: at(1000),
        expectedEmail: "ada@example.com",
      });
      await store.createConnectSession({
        tokenHash: "t2",
        identifier: "u2",
        scopes: [],
        returnUrl: null,
        expiresAt: at(1000),
      });
      const consumed = await Promise.all([1, 2, 3].map(() => store.consumeConnectSession("t1", at(10))));
      expect(consumed.filter(Boolean)).toEqual([
        {
          tokenHash: "t1",
          integration: "default",
          identifier: "u1",
          scopes: ["a"],
          returnUrl: "https://app/x",
          expiresAt: at(1000),
          createdAt: expect.any(Date),
          metadata: null,
          expectedEmail: "ada@example.com",
        },
      ]);
      expect(await store.consumeConnectSession("t2", at(1000))).toBeNull(); // expired
      expect(await store.consumeConnectSession("unknown", at(0))).toBeNull();

      const pending = {
        identifier: "u1",
        scopes: ["a"],
        returnUrl: null,
        codeVerifier: "cv",
        browserBindingHash: "bh",
      };
      await store.createPendingAuthorization({ ...pending, stateHash: "s1", expiresAt: at(1000) });
      await store.createPendingAuthorization({
        ...pending,
        stateHash: "s2",
        expiresAt: at(1000),
        expectedEmail: "ada@example.com",
      });
      expect((await store.getPendingAuthorization("s2"))?.expectedEmail).toBe("ada@example.com");
      expect((await store.getPendingAuthorization("s1"))?.expectedEmail).toBeNull();
      const marks = await Promise.all([1, 2, 3].map(() => store.markPendingAuthorizationUsed("s1", at(10))));
      expect(marks.filter(Boolean)).toHaveLength(1);
      expect((await store.getPendingAuthorization("s1"))?.usedAt).toEqual(at(10));
      expect(await store.markPendingAuthorizationUsed("s2", at(1000))).toBe(false); // expired
      expect(await store.getPendingAuthorization("nope")).toBeNull();
      expect(await store.purgeExpired(at(999))).toBe(0);
      expect(await store.purgeExpired(at(1000))).toBe(4);
    });

    it("pages through connections with an opaque cursor and a status filter", async () => {
      const store = await setup();
      const ids = Array.from({ length: 25 }, (_, i) => `user_${String(i).padStart(2, "0")}`);
      for (const id of [...ids].reverse()) await store.upsertConnection(tokens(id), T0, created);
      for (const id of ids.slice(0, 5)) {
        await store.markReauthRequired(
          id,
          { version: 1, reason: "invalid_grant", now: T0 },
          { type: "connection.reauth_required" },
        );
      }
      const seen: string[] = [];
      let after: string | undefined;
      let pages = 0;
      for (;;) {
        const page = await store.listConnections({ limit: 10, after });
        pages++;
        seen.push(...page.items.map((c) => c.identifier));
        expect(page.items.every((c) => !("accessToken" in c) && !("refreshToken" in c))).toBe(true);
        if (!page.nextCursor) break;
        after = page.nextCursor;
      }
      expect(pages).toBe(3);
      expect(seen).toEqual(ids);
      const broken = await store.listConnections({ limit: 100, status: "reauth_required" });
      expect(broken.items.map((c) => c.identifier)).toEqual(ids.slice(0, 5));
      expect(broken.nextCursor).toBeNull();
      expect(await store.countConnectionsByStatus()).toEqual({ active: 20, reauth_required: 5, revoked: 0 });
    });

    it("revokes a connection: row and events kept, tokens erased, version moved, reconnect reactivates", async () => {
      const store = await setup();
      await store.upsertConnection(tokens("u1"), T0, created);
      await store.claimRefreshLease("u1", { owner: "o", version: 1, now: T0, leaseMs: 60_000 });
      const revoked = { reason: "disconnected", now: at(1000) };
      expect(await store.revokeConnection("u1", revoked, { type: "connection.deleted" })).toBe("revoked");
      expect(await store.revokeConnection("u1", revoked, { type: "connection.deleted" })).toBe(
        "already_revoked",
      );
      expect(await store.revokeConnection("nobody", revoked, { type: "connection.deleted" })).toBe(
        "not_found",
      );
      const row = await store.getConnection("u1");
      expect(row).toMatchObject({
        status: "revoked",
        statusReason: "disconnected",
        version: 2,
        leaseOwner: null,
        accessTokenExpiresAt: at(1000),
        refreshTokenExpiresAt: at(1000),
      });
      expect(row?.accessToken).not.toContain("access-secret");
      expect(row?.refreshToken).not.toContain("refresh-secret");
      expect(await h.dump()).not.toContain("secret-u1");
      // A refresh that was in flight cannot bring the old grant back.
      expect(
        await store.saveRefreshedTokens("u1", { owner: "o", version: 1, tokens: tokens("u1", 2), now: T0 }),
      ).toBe(false);
      expect(await store.countConnectionsByStatus()).toEqual({ active: 0, reauth_required: 0, revoked: 1 });
      expect((await store.listEvents("u1", { limit: 10 })).map((e) => e.type)).toEqual([
        "connection.deleted",
        "connection.created",
      ]);
      const back = await store.upsertConnection(tokens("u1", 3), at(2000), created);
      expect(back.created).toBe(false);
      expect(back.connection).toMatchObject({ status: "active", statusReason: null, version: 3 });
      expect(back.connection.accessToken).toBe(tokens("u1", 3).accessToken);
    });

    it("reports an identifier's newest connect link and how far it got", async () => {
      const store = await setup();
      expect(await store.latestConnectAttempt("u1")).toBeNull();
      const session = (hash: string) => ({
        tokenHash: hash,
        identifier: "u1",
        scopes: ["schema.bases:read"],
        returnUrl: null,
        expiresAt: at(30 * 60_000),
      });
      await store.createConnectSession(session("old"));
      await new Promise((r) => setTimeout(r, 5));
      await store.createConnectSession(session("new"));
      const fresh = await store.latestConnectAttempt("u1");
      expect(fresh).toMatchObject({
        expiresAt: at(30 * 60_000),
        openedAt: null,
        authorizationExpiresAt: null,
      });
      expect(await store.consumeConnectSession("new", T0)).not.toBeNull();
      await store.createPendingAuthorization({
        stateHash: "state-1",
        identifier: "u1",
        scopes: ["schema.bases:read"],
        returnUrl: null,
        codeVerifier: "v".repeat(64),
        browserBindingHash: "b",
        expiresAt: at(10 * 60_000),
      });
      expect(await store.latestConnectAttempt("u1")).toMatchObject({
        openedAt: T0,
        authorizationExpiresAt: at(10 * 60_000),
        returnedAt: null,
      });
      expect(await store.markPendingAuthorizationUsed("state-1", at(1000))).toBe(true);
      expect((await store.latestConnectAttempt("u1"))?.returnedAt).toEqual(at(1000));
      expect(await store.latestConnectAttempt("u2")).toBeNull();
    });

    it("lists connections due for keep-alive, oldest first, active only", async () => {
      const store = await setup();
      for (const [id, days] of [
        ["fresh", 1],
        ["old", 10],
        ["older", 20],
        ["dead", 30],
      ] as const) {
        await store.upsertConnection(tokens(id), at(-days * 86_400_000), created);
      }
      await store.markReauthRequired(
        "dead",
        { version: 1, reason: "invalid_grant", now: T0 },
        { type: "connection.reauth_required" },
      );
      expect(await store.listDueForKeepAlive({ refreshedBefore: at(-7 * 86_400_000), limit: 10 })).toEqual([
        "older",
        "old",
      ]);
      expect(await store.listDueForKeepAlive({ refreshedBefore: at(-7 * 86_400_000), limit: 1 })).toEqual([
        "older",
      ]);
    });

    it("puts only the configured event types in the outbox, in the same transaction", async () => {
      const store = await setup({ webhookEvents: new Set(["connection.created", "connection.deleted"]) });
      await store.upsertConnection(tokens("u1"), T0, created);
      await store.appendEvent("u1", { type: "connection.note", data: { a: 1 } });
      await store.revokeConnection(
        "u1",
        { reason: "disconnected", now: T0 },
        { type: "connection.deleted", data: { by: "test" } },
      );
      const items = await store.claimOutbox({ owner: "w", now: new Date(), limit: 10, leaseMs: 60_000 });
      expect(items.map((i) => [i.type, i.attempts])).toEqual([
        ["connection.created", 1],
        ["connection.deleted", 1],
      ]);
      expect(items[1]?.data).toEqual({ by: "test" });
      const rows = await h.raw("select type, webhook_state from events order by id");
      expect(rows.map((r) => [r.type, r.webhook_state])).toEqual([
        ["connection.created", "pending"],
        ["connection.note", null],
        ["connection.deleted", "pending"],
      ]);
    });

    it("never hands one outbox event to two claimers; retries after failure; stops after delivery", async () => {
      const store = await setup({ webhookEvents: new Set(["e"]) });
      for (let i = 0; i < 60; i++) await store.appendEvent(`u${i}`, { type: "e", data: { i } });
      const others = await Promise.all([h.open(), h.open()]);
      const claimers = [store, ...others];
      const now = new Date(Date.now() + 1000);
      const batches = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          claimers[i % 3]!.claimOutbox({ owner: `w${i}`, now, limit: 7, leaseMs: 60_000 }),
        ),
      );
      const ids = batches.flat().map((item) => item.id);
      expect(new Set(ids).size).toBe(ids.length);
      // Whatever was not claimed yet is claimable now; nothing is claimed twice while leased.
      const rest = await store.claimOutbox({ owner: "last", now, limit: 100, leaseMs: 60_000 });
      expect(new Set([...ids, ...rest.map((r) => r.id)]).size).toBe(60);
      expect(await store.claimOutbox({ owner: "again", now, limit: 100, leaseMs: 60_000 })).toEqual([]);

      const [first, second] = rest.length >= 2 ? rest : batches.flat();
      await store.markOutboxDelivered(first!.id, now);
      await store.markOutboxFailed(second!.id, {
        nextAttemptAt: new Date(now.getTime() + 5000),
        error: "receiver said 503",
      });
      const later = new Date(now.getTime() + 61_000);
      const retried = await store.claimOutbox({ owner: "later", now: later, limit: 100, leaseMs: 60_000 });
      expect(retried.map((r) => r.id)).not.toContain(first!.id);
      expect(retried.find((r) => r.id === second!.id)?.attempts).toBe(2);
      expect(retried).toHaveLength(59);
      const [failedRow] = await h.raw("select last_error from events where id = ?", [second!.id]);
      expect(failedRow?.last_error).toBe("receiver said 503");
    });

    it("announces connection changes to onConnectionChanged listeners", async () => {
      const store = await setup();
      // On PostgreSQL the listener is another instance (cross-process path); on SQLite the same one.
      const listening = target.name === "postgres" ? await h.open() : store;
      const heard: Array<[string, number]> = [];
      const stop = listening.onConnectionChanged((id, version) => heard.push([id, version]));
      await listening.whenListening();
      await store.upsertConnection(tokens("u1"), T0, created);
      await store.claimRefreshLease("u1", { owner: "o", version: 1, now: T0, leaseMs: 1000 });
      await store.saveRefreshedTokens("u1", { owner: "o", version: 1, tokens: tokens("u1", 2), now: T0 });
      await store.revokeConnection("u1", { reason: "disconnected", now: T0 }, { type: "connection.deleted" });
      await waitUntil(() => heard.length >= 3);
      expect(heard).toEqual([
        ["u1", 1],
        ["u1", 2],
        ["u1", 3],
      ]);
      stop();
    });

    if (target.name === "postgres") {
      it("reconnects the LISTEN connection after it drops", async () => {
        const store = await setup();
        const listening = await h.open();
        const heard: number[] = [];
        listening.onConnectionChanged((_id, version) => heard.push(version));
        await listening.whenListening();
        const killed = await h.raw(
          "select pg_terminate_backend(pid) as killed from pg_stat_activity where application_name = ? and pid <> pg_backend_pid()",
          [`airlock-listener:${h.schema}`],
        );
        expect(killed.length).toBeGreaterThan(0);
        await store.upsertConnection(tokens("u1"), T0, created);
        // Notifications sent while it was down are lost; once it is back, new ones arrive.
        await waitUntil(async () => {
          await store.upsertConnection(tokens("u2"), T0, created);
          return heard.length > 0;
        });
      });
    }
  });
}

describe("openStore", () => {
  it("rejects malformed and unsupported URLs without echoing them", async () => {
    const bad = await openStore("postgres://user:hunter2@/", { keyring }).catch((e: unknown) => e);
    expect(isAirlockError(bad, "config_invalid")).toBe(true);
    expect((bad as Error).message).toContain("DATABASE_URL");
    expect((bad as Error).message).not.toContain("hunter2");
    const mysql = await openStore("mysql://localhost/db", { keyring }).catch((e: unknown) => e);
    expect(isAirlockError(mysql, "config_invalid")).toBe(true);
    const schema = await openStore("postgres://localhost/db?schema=Bad-Name", { keyring }).catch(
      (e: unknown) => e,
    );
    expect(isAirlockError(schema, "config_invalid")).toBe(true);
  });

  it("says which database it cannot reach, without credentials", async () => {
    const err = await openStore("postgres://airlock:hunter2@127.0.0.1:1/nope", { keyring }).catch(
      (e: unknown) => e,
    );
    expect(isAirlockError(err, "config_invalid")).toBe(true);
    expect((err as Error).message).toContain("127.0.0.1:1/nope");
    expect((err as Error).message).not.toContain("hunter2");
    const dir = mkdtempSync(join(tmpdir(), "airlock-open-"));
    try {
      // A "folder" that is a regular file cannot hold a database.
      writeFileSync(join(dir, "plain-file"), "");
      const path = join(dir, "plain-file", "cannot.db");
      const file = await openStore(path, { keyring }).catch((e: unknown) => e);
      expect(isAirlockError(file, "config_invalid")).toBe(true);
      expect((file as Error).message).toContain(path);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("opens a SQLite file from a path or a sqlite: URL and creates its folder", async () => {
    const dir = mkdtempSync(join(tmpdir(), "airlock-open-"));
    try {
      const store = await openStore(`sqlite://${join(dir, "nested", "a.db")}`, { keyring });
      expect(store.kind).toBe("sqlite");
      await store.close();
      expect(existsSync(join(dir, "nested", "a.db"))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

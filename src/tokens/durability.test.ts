/**
 * Rotated tokens survive a store that stops answering: a real PostgreSQL reached through a TCP
 * forwarder the test cuts (the shared server stays up for other suites), the real emulator, the
 * real OAuth client and the real rotation journal on disk.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { seedConnection } from "../../test/support/connection-tokens.js";
import { createTestSchema, describeWithPostgres, TEST_DATABASE_URL } from "../../test/support/postgres.js";
import { startTcpProxy, type TcpProxy } from "../../test/support/tcp-proxy.js";
import {
  emulatorOAuth,
  emulatorStats,
  setTokenFault,
  tokenFaultArmed,
} from "../../test/support/token-fixtures.js";
import { type RunningEmulator, startEmulator } from "../emulator/index.js";
import { isAirlockError } from "../shared/errors.js";
import { generateKeyringValue, parseEncryptionKeys } from "../store/crypto.js";
import { openStore } from "../store/index.js";
import { FileRotationJournal } from "../store/journal.js";
import type { SqlStore } from "../store/sql-store.js";
import { TokenManager } from "./token-manager.js";

describeWithPostgres("rotated tokens through a store outage", () => {
  let emulator: RunningEmulator;
  let schema: { url: string; drop(): Promise<void> };
  let proxy: TcpProxy;
  let direct: SqlStore;
  let dir: string;
  const keys = generateKeyringValue("d1");
  const keyring = parseEncryptionKeys(keys);
  const managers: TokenManager[] = [];
  const stores: SqlStore[] = [];

  beforeEach(async () => {
    emulator = await startEmulator({ autoApprove: true, latencyMs: 200 });
    schema = await createTestSchema("durability");
    direct = await openStore(schema.url, { keyring });
    const { hostname, port } = new URL(TEST_DATABASE_URL!);
    proxy = await startTcpProxy(hostname, Number(port || 5432));
    dir = mkdtempSync(join(tmpdir(), "airlock-durability-"));
  });

  afterEach(async () => {
    await proxy.start().catch(() => undefined);
    for (const m of managers.splice(0)) await m.close({ deadlineMs: 1000 });
    for (const s of stores.splice(0)) await s.close();
    await direct.close();
    await schema.drop();
    await emulator.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A manager whose store goes through the forwarder, with a journal in `dir`. */
  async function manager(): Promise<TokenManager> {
    const store = await openStore(proxy.via(schema.url), { keyring });
    stores.push(store);
    const m = new TokenManager({
      store,
      refresher: emulatorOAuth(emulator.url),
      journal: await FileRotationJournal.open(join(dir, "journal"), { keyring }),
      journalScanIntervalMs: 60_000,
    });
    managers.push(m);
    return m;
  }

  /** Arms a slow token answer, starts a refresh, and cuts the store while Airtable works on it. */
  async function refreshThroughOutage(m: TokenManager) {
    await setTokenFault(emulator.url, { delay_ms: 800, count: 1 });
    const answer = m.getAccessToken("u1");
    // Cut only once the refresh request has reached Airtable: the manager has claimed the lease and
    // re-read the row by then. Cutting as soon as the lease shows could fail that re-read instead
    // (a transient answer with nothing rotated), which is right, but not what these tests are about.
    await waitUntil(async () => !(await tokenFaultArmed(emulator.url)));
    await proxy.stop();
    return answer;
  }

  it("holds the rotation in memory, serves it, and saves it once the store is back", async () => {
    const seeded = await seedConnection(direct, emulator.url, "u1", { now: new Date(), accessTtlMs: -1 });
    const m = await manager();
    const before = await emulatorStats(emulator.url);
    const token = await refreshThroughOutage(m);
    expect(token.accessToken).not.toBe(seeded.accessToken);
    expect(m.heldRotations).toBe(1);
    // The store is still down: the same process is served from memory.
    expect((await m.getAccessToken("u1")).accessToken).toBe(token.accessToken);
    expect(readdirSync(join(dir, "journal")).filter((n) => n.endsWith(".rotation"))).toHaveLength(1);
    await proxy.start();
    await waitUntil(async () => (await direct.getConnection("u1"))?.version === 2);
    const row = await direct.getConnection("u1");
    expect(row).toMatchObject({ status: "active", accessToken: token.accessToken, leaseOwner: null });
    await waitUntil(() => m.heldRotations === 0);
    expect(readdirSync(join(dir, "journal")).filter((n) => n.endsWith(".rotation"))).toHaveLength(0);
    const after = await emulatorStats(emulator.url);
    expect(after.refreshes - before.refreshes).toBe(1);
    expect(after.invalid_grants - before.invalid_grants).toBe(0);
  });

  it("stops serving a held rotation once the connection is disconnected", async () => {
    await seedConnection(direct, emulator.url, "u1", { now: new Date(), accessTtlMs: -1 });
    const m = await manager();
    await refreshThroughOutage(m);
    expect(m.heldRotations).toBe(1);
    await proxy.start();
    await direct.revokeConnection(
      "u1",
      { reason: "disconnected", now: new Date() },
      { type: "connection.deleted" },
    );
    m.invalidate("u1");
    expect(m.heldRotations).toBe(0);
    const refused = await m.getAccessToken("u1").catch((e: unknown) => e);
    expect(isAirlockError(refused, "reauth_required")).toBe(true);
    // The retry finds the fence moved: nothing is written over the revoked row, the entry goes.
    await waitUntil(() => readdirSync(join(dir, "journal")).every((n) => !n.endsWith(".rotation")));
    expect(await direct.getConnection("u1")).toMatchObject({ status: "revoked" });
  });

  it("leaves a rotation it could not save in the journal; the next manager applies it without a refresh", async () => {
    await seedConnection(direct, emulator.url, "u1", { now: new Date(), accessTtlMs: -1 });
    const first = await manager();
    const token = await refreshThroughOutage(first);
    // Shutting down while the store is still unreachable: nothing more can be saved now.
    await first.close({ deadlineMs: 300 });
    for (const store of stores.splice(0)) await store.close(); // the process is gone
    expect((await direct.getConnection("u1"))?.version).toBe(1);
    await proxy.start();
    const before = await emulatorStats(emulator.url);
    const next = await manager();
    expect(await next.recoverJournal()).toBe(1);
    expect(await direct.getConnection("u1")).toMatchObject({
      version: 2,
      status: "active",
      accessToken: token.accessToken,
      leaseOwner: null,
    });
    expect((await next.getAccessToken("u1")).accessToken).toBe(token.accessToken);
    // Applied once: a second pass finds nothing.
    expect(await next.recoverJournal()).toBe(0);
    const after = await emulatorStats(emulator.url);
    expect(after.refreshes - before.refreshes).toBe(0);
    expect(after.invalid_grants - before.invalid_grants).toBe(0);
  });
});

async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 25));
  }
}

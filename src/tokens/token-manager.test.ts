/**
 * TokenManager against real stores (SQLite file, PostgreSQL schema) and the real emulator over
 * HTTP, through the real OAuth client. Time is an injected clock; nothing sleeps for long.
 */
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { seedConnection } from "../../test/support/connection-tokens.js";
import { type StoreTarget, storeTargets } from "../../test/support/store-targets.js";
import {
  emulatorOAuth,
  emulatorStats,
  setTokenFault,
  tokenTestbed,
} from "../../test/support/token-fixtures.js";
import { AirlockError, isAirlockError } from "../shared/errors.js";
import { createMetrics, type Metrics } from "../shared/metrics.js";
import type { Store } from "../store/types.js";

const MIN = 60_000;

for (const target of storeTargets("token manager (src/tokens/token-manager.test.ts)")) {
  describe.skipIf(target.skip)(`TokenManager on ${target.name}`, () => suite(target));
}

function suite(target: StoreTarget) {
  const bed = tokenTestbed(target, {
    // A little token-endpoint latency, so concurrent callers really overlap with the refresh.
    latencyMs: 100,
    beforeEach: () => setTokenFault(bed.emulator.url, null),
  });
  const { manager } = bed;
  const stats = () => emulatorStats(bed.emulator.url);

  it("answers a valid token from memory: no database read, no write", async () => {
    await seedConnection(bed.store, bed.emulator.url, "u1", { now: bed.clock.now() });
    let reads = 0;
    const counting = new Proxy(bed.store, {
      get(target, property) {
        const value = Reflect.get(target, property, target);
        if (property === "getConnection") {
          return (...args: Parameters<Store["getConnection"]>) => {
            reads++;
            return target.getConnection(...args);
          };
        }
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const m = manager({ store: counting });
    const first = await m.getAccessToken("u1");
    expect(reads).toBe(1);
    for (let i = 0; i < 1000; i++) expect(await m.getAccessToken("u1")).toBe(first);
    expect(reads).toBe(1);
    expect(first.version).toBe(1);
    expect((await bed.store.getConnection("u1"))?.updatedAt).toEqual(
      (await bed.store.getConnection("u1"))?.createdAt,
    );
  });

  it("keeps at most cacheMaxEntries tokens in memory: the oldest cached is read again", async () => {
    for (const id of ["c1", "c2", "c3"])
      await seedConnection(bed.store, bed.emulator.url, id, { now: bed.clock.now() });
    const reads: string[] = [];
    const counting = new Proxy(bed.store, {
      get(target, property) {
        const value = Reflect.get(target, property, target);
        if (property === "getConnection") {
          return (identifier: string) => {
            reads.push(identifier);
            return target.getConnection(identifier);
          };
        }
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const m = manager({ store: counting, cacheMaxEntries: 2, cacheTtlMs: 60 * MIN });
    for (const id of ["c1", "c2", "c3"]) await m.getAccessToken(id);
    expect(reads).toEqual(["c1", "c2", "c3"]);
    // c2 and c3 are still cached; c1, the oldest, was dropped when c3 came in.
    await m.getAccessToken("c2");
    await m.getAccessToken("c3");
    expect(reads).toEqual(["c1", "c2", "c3"]);
    await m.getAccessToken("c1");
    expect(reads).toEqual(["c1", "c2", "c3", "c1"]);
  });

  it("refreshes exactly once for many concurrent callers on two instances", async () => {
    const seeded = await seedConnection(bed.store, bed.emulator.url, "u1", {
      now: bed.clock.now(),
      accessTtlMs: -1,
    });
    const before = await stats();
    const a = manager();
    const b = manager({ store: await bed.db.open() });
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? a : b).getAccessToken("u1")),
    );
    const after = await stats();
    expect(after.refreshes - before.refreshes).toBe(1);
    expect(after.invalid_grants - before.invalid_grants).toBe(0);
    expect(new Set(results.map((r) => r.accessToken)).size).toBe(1);
    expect(results[0]?.accessToken).not.toBe(seeded.accessToken);
    const row = await bed.store.getConnection("u1");
    expect(row).toMatchObject({ version: 2, accessToken: results[0]?.accessToken, leaseOwner: null });
    expect(row!.accessTokenExpiresAt.getTime()).toBeGreaterThan(bed.clock.now().getTime() + 55 * MIN);
  });

  it("after a 401, refreshes only if the rejected token is still the stored one", async () => {
    await seedConnection(bed.store, bed.emulator.url, "u1", { now: bed.clock.now() });
    const a = manager();
    const b = manager({ store: await bed.db.open() });
    const t1 = (await a.getAccessToken("u1")).accessToken;
    expect((await b.getAccessToken("u1")).accessToken).toBe(t1);
    const before = await stats();
    const t2 = (await a.getAccessToken("u1", { force: true, rejectedAccessToken: t1 })).accessToken;
    expect(t2).not.toBe(t1);
    // b still holds t1 in memory; its 401 finds t2 already stored: no second refresh.
    expect((await b.getAccessToken("u1", { force: true, rejectedAccessToken: t1 })).accessToken).toBe(t2);
    expect((await stats()).refreshes - before.refreshes).toBe(1);
    // A 401 storm against t2: one refresh, everyone gets t3.
    const storm = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        (i % 2 ? a : b).getAccessToken("u1", { force: true, rejectedAccessToken: t2 }),
      ),
    );
    const t3 = storm[0]!.accessToken;
    expect(new Set(storm.map((r) => r.accessToken))).toEqual(new Set([t3]));
    expect(t3).not.toBe(t2);
    expect((await stats()).refreshes - before.refreshes).toBe(2);
  });

  it("turns invalid_grant into reauth_required once, then stops calling upstream", async () => {
    await seedConnection(bed.store, bed.emulator.url, "u1", { now: bed.clock.now(), accessTtlMs: -1 });
    await setTokenFault(bed.emulator.url, { error: "invalid_grant", count: 1 });
    const metrics = createMetrics();
    const m = manager({ metrics });
    const before = await stats();
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, () => m.getAccessToken("u1")));
    for (const outcome of outcomes) {
      expect(outcome.status).toBe("rejected");
      const err = (outcome as PromiseRejectedResult).reason as AirlockError;
      expect(err.code).toBe("reauth_required");
      expect(err.details).toEqual({ reason: "invalid_grant" });
      expect(err.hint).toMatch(/reconnect/);
    }
    expect(await bed.store.getConnection("u1")).toMatchObject({
      status: "reauth_required",
      statusReason: "invalid_grant",
    });
    const events = await bed.store.listEvents("u1", { limit: 10 });
    expect(events.filter((e) => e.type === "connection.reauth_required")).toHaveLength(1);
    await expect(m.getAccessToken("u1", { force: true })).rejects.toMatchObject({ code: "reauth_required" });
    const after = await stats();
    expect(after.invalid_grants - before.invalid_grants).toBe(1);
    expect(after.refreshes - before.refreshes).toBe(0);
    expect(await counter(metrics, "airlock_refresh_attempts_total", "invalid_grant")).toBe(1);
  });

  it("takes over from a holder that died before Airtable rotated: a normal refresh", async () => {
    await seedConnection(bed.store, bed.emulator.url, "u1", { now: bed.clock.now(), accessTtlMs: -1 });
    expect(
      await bed.store.claimRefreshLease("u1", {
        owner: "dead",
        version: 1,
        now: bed.clock.now(),
        leaseMs: 30_000,
      }),
    ).toEqual({
      claimed: true,
      takeover: false,
    });
    const before = await stats();
    const m = manager({ leaseMs: 30_000 });
    const pending = m.getAccessToken("u1");
    // The caller waits on the live lease; once it expires (by the clock) it takes over.
    await new Promise((resolve) => setTimeout(resolve, 100));
    bed.clock.advance(31_000);
    const token = await pending;
    expect(token.version).toBe(2);
    expect((await stats()).refreshes - before.refreshes).toBe(1);
    expect(await bed.store.getConnection("u1")).toMatchObject({ status: "active", leaseOwner: null });
    expect((await bed.store.listEvents("u1", { limit: 10 })).map((e) => e.type)).toEqual([
      "connection.refreshed",
      "connection.created",
    ]);
  });

  it("takes over from a holder that died after Airtable rotated: refresh_interrupted, one event", async () => {
    const seeded = await seedConnection(bed.store, bed.emulator.url, "u1", {
      now: bed.clock.now(),
      accessTtlMs: -1,
    });
    await bed.store.claimRefreshLease("u1", {
      owner: "dead",
      version: 1,
      now: bed.clock.now(),
      leaseMs: 30_000,
    });
    // The dead holder's request reached Airtable (tokens rotated); its answer was never saved.
    await emulatorOAuth(bed.emulator.url).refresh(seeded.refreshToken);
    const before = await stats();
    bed.clock.advance(31_000);
    const metrics = createMetrics();
    const m = manager({ metrics });
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => m.getAccessToken("u1")));
    expect(
      outcomes.every((o) => o.status === "rejected" && isAirlockError(o.reason, "reauth_required")),
    ).toBe(true);
    expect(((outcomes[0] as PromiseRejectedResult).reason as AirlockError).details).toEqual({
      reason: "refresh_interrupted",
    });
    expect(await bed.store.getConnection("u1")).toMatchObject({
      status: "reauth_required",
      statusReason: "refresh_interrupted",
    });
    const events = await bed.store.listEvents("u1", { limit: 10 });
    expect(events.filter((e) => e.type === "connection.reauth_required").map((e) => e.data)).toEqual([
      { reason: "refresh_interrupted" },
    ]);
    await expect(m.getAccessToken("u1")).rejects.toMatchObject({ code: "reauth_required" });
    const after = await stats();
    // At most one further attempt: ours, which found the token rotated away.
    expect(after.refreshes - before.refreshes + (after.invalid_grants - before.invalid_grants)).toBe(1);
    expect(await counter(metrics, "airlock_refresh_attempts_total", "interrupted")).toBe(1);
  });

  it("treats a lost answer (rotated, then the connection dropped) as an interrupted refresh", async () => {
    await seedConnection(bed.store, bed.emulator.url, "u1", { now: bed.clock.now(), accessTtlMs: -1 });
    await setTokenFault(bed.emulator.url, { rotate_then_drop: true, count: 1 });
    const m = manager({ backoffBaseMs: 1000 });
    const before = await stats();
    const first = await m.getAccessToken("u1").catch((e: unknown) => e);
    expect(isAirlockError(first, "transient")).toBe(true);
    expect(await bed.store.getConnection("u1")).toMatchObject({
      status: "active",
      refreshFailures: 1,
      leaseOwner: null,
    });
    bed.clock.advance(5 * MIN);
    const second = await m.getAccessToken("u1").catch((e: unknown) => e);
    expect(isAirlockError(second, "reauth_required")).toBe(true);
    expect((second as AirlockError).details).toEqual({ reason: "refresh_interrupted" });
    const after = await stats();
    expect(after.refreshes - before.refreshes).toBe(1);
    expect(after.invalid_grants - before.invalid_grants).toBe(1);
    const events = await bed.store.listEvents("u1", { limit: 10 });
    expect(events.filter((e) => e.type === "connection.reauth_required")).toHaveLength(1);
  });

  it("backs off on transient failures, stays active, and recovers", async () => {
    // Obtained 56 minutes ago, expires in 4: inside the 5-minute skew.
    const seeded = await seedConnection(bed.store, bed.emulator.url, "u1", {
      now: new Date(bed.clock.now().getTime() - 56 * MIN),
      accessTtlMs: 60 * MIN,
    });
    await setTokenFault(bed.emulator.url, { status: 503, count: 3 });
    const metrics = createMetrics();
    const m = manager({ metrics, backoffBaseMs: 1000 });
    // Inside the skew but still usable: the caller gets the current token.
    const degraded = await m.getAccessToken("u1");
    expect(degraded.accessToken).toBe(seeded.accessToken);
    const row = await bed.store.getConnection("u1");
    expect(row).toMatchObject({ status: "active", refreshFailures: 1, leaseOwner: null });
    expect(row!.nextRefreshAttemptAt!.getTime()).toBeGreaterThan(bed.clock.now().getTime());
    // Within the backoff: no upstream call at all.
    expect((await m.getAccessToken("u1")).accessToken).toBe(seeded.accessToken);
    expect(await counter(metrics, "airlock_refresh_attempts_total", "transient")).toBe(1);
    expect(await counter(metrics, "airlock_refresh_attempts_total", "skipped")).toBe(1);
    // Later the token is unusable: callers get a retryable error while Airtable keeps failing.
    for (const failures of [2, 3]) {
      bed.clock.advance(5 * MIN);
      const err = await m.getAccessToken("u1").catch((e: unknown) => e);
      expect(isAirlockError(err, "transient")).toBe(true);
      expect((err as AirlockError).retryable).toBe(true);
      expect(await bed.store.getConnection("u1")).toMatchObject({
        status: "active",
        refreshFailures: failures,
      });
    }
    bed.clock.advance(5 * MIN);
    const before = await stats();
    const recovered = await m.getAccessToken("u1");
    expect(recovered.accessToken).not.toBe(seeded.accessToken);
    expect((await stats()).refreshes - before.refreshes).toBe(1);
    expect(await bed.store.getConnection("u1")).toMatchObject({
      status: "active",
      refreshFailures: 0,
      nextRefreshAttemptAt: null,
      version: 2,
    });
    // The history tells the story: three failures (the 503s), then the refresh.
    const history = await bed.store.listEvents("u1", { limit: 10 });
    expect(history.map((e) => e.type)).toEqual([
      "connection.refreshed",
      "connection.refresh_failed",
      "connection.refresh_failed",
      "connection.refresh_failed",
      "connection.created",
    ]);
    expect(history[1]?.data).toMatchObject({
      error: "transient",
      status: 503,
      failures: 3,
      uncertain: false,
    });
    expect(history[0]?.data).toEqual({ version: 2 });
    expect(await counter(metrics, "airlock_refresh_attempts_total", "transient")).toBe(3);
    expect(await counter(metrics, "airlock_refresh_attempts_total", "success")).toBe(1);
  });

  it("answers a caller past its wait, and saves a slow answer that came inside the refresh timeout", async () => {
    await seedConnection(bed.store, bed.emulator.url, "u1", { now: bed.clock.now(), accessTtlMs: -1 });
    await setTokenFault(bed.emulator.url, { delay_ms: 700, count: 1 });
    const m = manager({ tokenWaitMs: 150, refreshTimeoutMs: 5_000, leaseMs: 10_000 });
    const before = await stats();
    const err = await m.getAccessToken("u1").catch((e: unknown) => e);
    expect(isAirlockError(err, "transient")).toBe(true);
    expect((err as AirlockError).details?.retry_after_seconds).toBeGreaterThanOrEqual(1);
    // The refresh goes on under its lease, and nobody else may start one meanwhile.
    expect((await bed.store.getConnection("u1"))?.leaseOwner).not.toBeNull();
    await waitUntil(async () => (await bed.store.getConnection("u1"))?.version === 2);
    const token = await m.getAccessToken("u1");
    expect(token.version).toBe(2);
    const after = await stats();
    expect(after.refreshes - before.refreshes).toBe(1);
    expect(after.invalid_grants - before.invalid_grants).toBe(0);
  });

  it("an invalid_grant under a lease another instance has since taken over does not kill the connection", async () => {
    await seedConnection(bed.store, bed.emulator.url, "u1", { now: bed.clock.now(), accessTtlMs: -1 });
    // Airtable answers invalid_grant 600 ms in; meanwhile another instance (skewed clock, say) takes
    // the lease over and sends the same refresh token: which of the two Airtable honours is not ours
    // to know, so the first holder must not declare the grant dead on the other's behalf.
    await setTokenFault(bed.emulator.url, { status: 400, error: "invalid_grant", delay_ms: 600, count: 1 });
    const m = manager({ tokenWaitMs: 300, refreshTimeoutMs: 5_000, leaseMs: 60_000 });
    const pending = m.getAccessToken("u1").catch((e: unknown) => e);
    await waitUntil(async () => (await bed.store.getConnection("u1"))?.leaseOwner != null);
    await bed.db.query("UPDATE connections SET lease_owner = $1, lease_until = $2 WHERE identifier = $3", [
      "another-instance#1",
      bed.clock.now().getTime() + 60_000,
      "u1",
    ]);
    const outcome = await pending;
    expect(isAirlockError(outcome, "transient"), String(outcome)).toBe(true);
    const row = await bed.store.getConnection("u1");
    expect(row?.status).toBe("active");
    expect(row?.version).toBe(1);
    const events = await bed.store.listEvents("u1", { limit: 10 });
    expect(events.map((e) => e.type)).not.toContain("connection.reauth_required");
    // The other instance goes away without a word: once its lease is over, the grant still works.
    await bed.db.query(
      "UPDATE connections SET lease_owner = NULL, lease_until = NULL WHERE identifier = $1",
      ["u1"],
    );
    await waitUntil(async () => (await m.getAccessToken("u1").catch(() => null))?.version === 2);
    await m.close({ deadlineMs: 2_000 });
  });

  it("never resends a refresh token before the lease of an aborted request ends; its reuse is an interruption", async () => {
    await seedConnection(bed.store, bed.emulator.url, "u1", { now: bed.clock.now(), accessTtlMs: -1 });
    // Airtable processes (and rotates) 700 ms in, after we gave up at 150 ms.
    await setTokenFault(bed.emulator.url, { delay_ms: 700, count: 1 });
    const m = manager({ refreshTimeoutMs: 150, leaseMs: 60_000 });
    const before = await stats();
    expect(isAirlockError(await m.getAccessToken("u1").catch((e: unknown) => e), "transient")).toBe(true);
    const row = await bed.store.getConnection("u1");
    expect(row?.nextRefreshAttemptAt?.getTime()).toBeGreaterThanOrEqual(bed.clock.now().getTime() + 59_000);
    await waitUntil(async () => (await stats()).refreshes > before.refreshes);
    // Still inside the lease: callers get a retryable error and nothing is sent.
    bed.clock.advance(30_000);
    expect(isAirlockError(await m.getAccessToken("u1").catch((e: unknown) => e), "transient")).toBe(true);
    expect((await stats()).invalid_grants).toBe(before.invalid_grants);
    // Past it, the stale token is tried once; the rejection says what happened.
    bed.clock.advance(31_000);
    const dead = await m.getAccessToken("u1").catch((e: unknown) => e);
    expect(isAirlockError(dead, "reauth_required")).toBe(true);
    expect((dead as AirlockError).details).toEqual({ reason: "refresh_interrupted" });
    expect((await stats()).invalid_grants - before.invalid_grants).toBe(1);
  });

  it("does not refresh on every call when tokens live shorter than twice the skew", async () => {
    await seedConnection(bed.store, bed.emulator.url, "u1", { now: bed.clock.now(), accessTtlMs: 2 * MIN });
    const m = manager();
    const before = await stats();
    expect((await m.getAccessToken("u1")).version).toBe(1);
    bed.clock.advance(59_000);
    expect((await m.getAccessToken("u1")).version).toBe(1);
    expect((await stats()).refreshes - before.refreshes).toBe(0);
    // Past half its lifetime it is refreshed, once.
    bed.clock.advance(2_000);
    expect((await m.getAccessToken("u1")).version).toBe(2);
    expect((await m.getAccessToken("u1")).version).toBe(2);
    expect((await stats()).refreshes - before.refreshes).toBe(1);
  });

  it("never writes a token to its logs", async () => {
    const lines: string[] = [];
    const logger = pino({ level: "debug" }, { write: (line: string) => lines.push(line) });
    const seeded = await seedConnection(bed.store, bed.emulator.url, "u1", {
      now: bed.clock.now(),
      accessTtlMs: -1,
    });
    const m = manager({ logger, backoffBaseMs: 1000 });
    await setTokenFault(bed.emulator.url, { status: 503, count: 1 });
    await m.getAccessToken("u1").catch(() => undefined);
    bed.clock.advance(5 * MIN);
    const fresh = await m.getAccessToken("u1");
    const row = await bed.store.getConnection("u1");
    await setTokenFault(bed.emulator.url, { error: "invalid_grant", count: 1 });
    await m.getAccessToken("u1", { force: true }).catch(() => undefined);
    const text = lines.join("");
    expect(text).toContain("token refreshed");
    expect(text).toContain("backing off");
    expect(text).toContain("re-authorization");
    for (const secret of [seeded.accessToken, seeded.refreshToken, fresh.accessToken, row!.refreshToken]) {
      expect(text).not.toContain(secret);
    }
  });

  it("names the problem: not_found and reauth_required", async () => {
    const m = manager();
    await expect(m.getAccessToken("nobody")).rejects.toMatchObject({ code: "not_found" });
    await seedConnection(bed.store, bed.emulator.url, "u1", { now: bed.clock.now() });
    await bed.store.markReauthRequired(
      "u1",
      { version: 1, reason: "invalid_grant", now: bed.clock.now() },
      { type: "x" },
    );
    const err = await m.getAccessToken("u1").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AirlockError);
    expect((err as AirlockError).toJSON()).toMatchObject({
      code: "reauth_required",
      details: { reason: "invalid_grant" },
    });
    expect((err as AirlockError).retryable).toBe(false);
  });

  it("drops its cached token when another instance changes the connection", async () => {
    await seedConnection(bed.store, bed.emulator.url, "u1", { now: bed.clock.now() });
    const other = await bed.db.open();
    await other.whenListening();
    const m = manager({ store: other, cacheTtlMs: 60 * MIN });
    await bed.store.whenListening();
    expect((await m.getAccessToken("u1")).version).toBe(1);
    await bed.store.markReauthRequired(
      "u1",
      { version: 1, reason: "invalid_grant", now: bed.clock.now() },
      { type: "x" },
    );
    if (target.name === "sqlite") {
      // SQLite announces in-process only; the stores here share the process.
      await expect(m.getAccessToken("u1")).rejects.toMatchObject({ code: "reauth_required" });
    } else {
      await waitUntil(
        async () => (await m.getAccessToken("u1").catch((e: unknown) => e)) instanceof AirlockError,
      );
    }
  });
}

async function counter(metrics: Metrics, name: string, outcome: string): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const value = metric?.values.find((v) => v.labels.outcome === outcome);
  return value?.value ?? 0;
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The service when its database fails, over real HTTP: API calls answer 503 `transient` with
 * Retry-After (never 500 `internal`), `/healthz` answers 503 naming the driver's error, the
 * failures are counted in `airlock_store_errors_total` and logged with their code, and everything
 * heals when the database is back.
 *
 * SQLite: another process holds the write lock (a long transaction), then the disk fills up for
 * real (a tmpfs, when mounting is permitted); SQLite readers never wait for writers, so these are
 * writes. PostgreSQL: the service reaches the server through a TCP forwarder that the test cuts,
 * and `GET /v1/connections` itself fails.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import type { ErrorBody } from "../src/server/http-errors.js";
import { startTestService, type TestService } from "./security/harness.js";
import { describeWithPostgres, TEST_DATABASE_URL } from "./support/postgres.js";
import { announceSkip } from "./support/skip.js";
import { mountSmallVolume, smallVolumeMissing } from "./support/small-volume.js";
import { startTcpProxy, type TcpProxy } from "./support/tcp-proxy.js";

const noMount = smallVolumeMissing();
announceSkip("mount", "service on a full SQLite disk", noMount);

async function expectUnavailable(t: TestService, storeError: string, retryAfter: string): Promise<void> {
  const list = await t.api("/v1/connections");
  expect(list.status).toBe(503);
  expect(list.headers.get("retry-after")).toBe(retryAfter);
  const body = (await list.json()) as ErrorBody;
  expect(body.error.code).toBe("transient");
  expect(body.error.message).toMatch(/^The database is unavailable \(.+\)\.$/);
  expect(body.error.details).toMatchObject({ store_error: storeError });

  const health = await t.api("/healthz");
  expect(health.status).toBe(503);
  expect(await health.json()).toEqual({
    status: "unavailable",
    store: t.service.ctx.store.kind,
    demo: true,
    held_rotations: 0,
    store_error: storeError,
  });
}

async function expectHealthy(t: TestService): Promise<void> {
  const health = await t.api("/healthz");
  expect(health.status).toBe(200);
  expect(await health.json()).toEqual({
    status: "ok",
    store: t.service.ctx.store.kind,
    demo: true,
    held_rotations: 0,
  });
  expect((await t.api("/v1/connections")).status).toBe(200);
}

async function storeErrors(t: TestService, store: string, code: string): Promise<number> {
  const text = await (await t.api("/metrics")).text();
  const line = text
    .split("\n")
    .find((l) => l.startsWith(`airlock_store_errors_total{store="${store}",code="${code}"}`));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

/** A write: POST /v1/connect-sessions (reads keep working on SQLite while writes cannot). */
async function expectWriteUnavailable(t: TestService, storeError: string, retryAfter: string): Promise<void> {
  const write = await t.api("/v1/connect-sessions", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ identifier: "user_1" }),
  });
  expect(write.status).toBe(503);
  expect(write.headers.get("retry-after")).toBe(retryAfter);
  const body = (await write.json()) as ErrorBody;
  expect(body.error.code).toBe("transient");
  expect(body.error.details).toMatchObject({ store_error: storeError });
  expect(body.error.hint).toContain(t.service.ctx.config.databaseUrl);

  const health = await t.api("/healthz");
  expect(health.status).toBe(503);
  expect(await health.json()).toEqual({
    status: "unavailable",
    store: "sqlite",
    demo: true,
    held_rotations: 0,
    store_error: storeError,
  });
}

describe("service with a SQLite file it cannot write", () => {
  const services: TestService[] = [];
  afterAll(async () => {
    for (const t of services) await t.close();
  });

  it("another process holding the write lock: writes and /healthz answer 503 SQLITE_BUSY", {
    timeout: 60_000,
  }, async () => {
    const t = await startTestService({ start: { keepAlive: false } });
    services.push(t);
    await expectHealthy(t);

    const session = await t.api("/v1/connect-sessions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ identifier: "user_2" }),
    });
    const { url: connectUrl } = (await session.json()) as { url: string };
    // A long transaction in another process: the service's writes wait out the busy timeout.
    const locker = new BetterSqlite3(t.sqlitePath as string);
    try {
      locker.exec("begin immediate");
      await expectWriteUnavailable(t, "SQLITE_BUSY", "1");
      // The end user pressing Continue on a connect link is told to retry, not where the database lives.
      const opened = await fetch(connectUrl, { method: "POST", redirect: "manual" });
      expect(opened.status).toBe(503);
      expect(opened.headers.get("retry-after")).toBe("1");
      const shown = await opened.text();
      expect(shown).toContain("Airlock cannot save or read connections right now.");
      expect(shown).not.toContain(t.sqlitePath as string);
      expect(shown).not.toContain("SQLITE_BUSY");
      // WAL readers do not wait for writers.
      expect((await t.api("/v1/connections")).status).toBe(200);
    } finally {
      locker.close();
    }

    await expectHealthy(t);
    expect(await storeErrors(t, "sqlite", "SQLITE_BUSY")).toBe(3);
    const logs = t.logs.text();
    expect(logs).toContain('"code":"SQLITE_BUSY"');
    expect(logs).toContain("health check: store cannot write");
    expect(logs).not.toMatch(/"code":"\[redacted\]"/);
  });

  it.skipIf(noMount !== undefined)(
    "a full disk: writes and /healthz answer 503 SQLITE_FULL until space is freed",
    async () => {
      const volume = mountSmallVolume(4);
      try {
        const t = await startTestService({
          env: { DATABASE_URL: join(volume.dir, "airlock.db") },
          start: { keepAlive: false },
        });
        services.push(t);
        await expectHealthy(t);
        volume.fill();
        await expectWriteUnavailable(t, "SQLITE_FULL", "30");
        volume.free();
        await expectHealthy(t);
        expect(await storeErrors(t, "sqlite", "SQLITE_FULL")).toBe(2);
        await t.close();
        services.pop();
      } finally {
        volume.unmount();
      }
    },
  );
});

describeWithPostgres("service with PostgreSQL going away", () => {
  let t: TestService;
  let proxy: TcpProxy;
  afterAll(async () => {
    await t?.close();
    await proxy?.stop();
  });

  it("answers 503 transient with Retry-After while the server is unreachable, and heals", async () => {
    const base = new URL(TEST_DATABASE_URL as string);
    proxy = await startTcpProxy(base.hostname, Number(base.port || 5432));
    const url = new URL(proxy.via(base.href));
    url.searchParams.set("schema", `airlock_svc_${randomBytes(5).toString("hex")}`);
    t = await startTestService({
      store: "postgres",
      env: { DATABASE_URL: url.href },
      start: { keepAlive: false },
    });
    await expectHealthy(t);

    await proxy.stop();
    // Let the pooled connections notice the reset, so every call meets a refused connection.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await expectUnavailable(t, "ECONNREFUSED", "5");
    expect(await storeErrors(t, "postgres", "ECONNREFUSED")).toBeGreaterThanOrEqual(2);
    expect(t.logs.text()).toContain('"code":"ECONNREFUSED"');

    await proxy.start();
    await expectHealthy(t);
  });
});

/**
 * Issue 7, scenario 3: the SQLite volume fills up while 5 refreshes wait on Airtable. Two
 * `airlock serve` processes share one SQLite file on a 16 MiB tmpfs (the rotation journal in its
 * default place, i.e. on the same full volume); the test fills the volume for real once Airtable
 * has the 5 requests. Callers must get 200 or 503 `transient` (never 500), `/healthz` must say the
 * store cannot write, the log must name the real error (SQLITE_FULL, not "cannot rollback"), and
 * once space is back all 5 rotations must land: 5 refreshes, 0 invalid_grant, every row active.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { libfaketimeMissing } from "../support/faketime.js";
import { announceSkip } from "../support/skip.js";
import { mountSmallVolume, type SmallVolume, smallVolumeMissing } from "../support/small-volume.js";
import {
  bumped,
  type Cluster,
  call,
  isTransient,
  startCluster,
  summarize,
  versionsOf,
  waitFor,
  waitForSettledRows,
  waitForTokenRequests,
} from "./harness.js";

const missing = smallVolumeMissing() ?? libfaketimeMissing();
announceSkip("multiprocess", "SQLite volume full (issue 7)", missing);

const HOUR_PLUS = 61 * 60;
const IDS = Array.from({ length: 5 }, (_, i) => `full_disk_${i}`);

describe.skipIf(missing !== undefined)("SQLite volume full during 5 refreshes", () => {
  let volume: SmallVolume;
  let cluster: Cluster;

  beforeAll(async () => {
    volume = mountSmallVolume(16);
    cluster = await startCluster({
      label: "full-disk",
      instances: 2,
      latencyMs: 1000,
      database: { sqlite: join(volume.dir, "airlock.db") },
    });
    for (const id of IDS) await cluster.connect(id);
    // A table of the test's own, to prove with a direct connection that SQLite cannot write.
    await cluster.db.query("CREATE TABLE test_probe (x BLOB)");
  }, 90_000);

  afterAll(async () => {
    await cluster?.close();
    volume?.unmount();
  });

  it("answers 200 or 503 transient, reports the store, keeps the rotations and saves them once space is back", async () => {
    const before = await cluster.emulator.stats();
    const versions = await versionsOf(cluster, IDS);
    await cluster.advanceAll(HOUR_PLUS);
    // 2 s more at Airtable (on top of the 1 s latency) to fill the volume while the requests wait;
    // the fault also tells when all 5 have arrived.
    await cluster.emulator.faults({ token: { delay_ms: 2000, count: IDS.length } });
    const answers = Promise.all(IDS.map((id, i) => cluster.proxy(i % 2, id)));
    await waitForTokenRequests(cluster, "the 5 refreshes");

    // Empty the WAL first: SQLite would otherwise keep writing into WAL pages it already has.
    await waitFor(
      async () => {
        const [result] = await cluster.db.query<{ busy: number }>("PRAGMA wal_checkpoint(TRUNCATE)");
        return result?.busy === 0;
      },
      { timeoutMs: 2000, intervalMs: 20, message: "could not truncate the WAL (a reader held it)" },
    );
    volume.fill();
    await expect(
      cluster.db.query("INSERT INTO test_probe VALUES (randomblob(65536))"),
      "a direct write must fail: the volume is really full",
    ).rejects.toThrow(/full/i);

    const first = await answers;
    expect
      .soft(
        first.every((a) => a.status === 200 || isTransient(a)),
        JSON.stringify(summarize(first)),
      )
      .toBe(true);

    // While the volume is full, every instance's /healthz says the store cannot write.
    for (const instance of cluster.instances) {
      let last = "";
      const unavailable = await waitFor(
        async () => {
          const health = await call(`${instance.url}/healthz`, { timeoutMs: 5000 });
          last = `${health.status} ${health.body}`;
          const body = JSON.parse(health.body || "{}") as { status?: string; store_error?: unknown };
          return health.status === 503 && body.status === "unavailable" && body.store_error !== undefined;
        },
        { timeoutMs: 15_000, intervalMs: 500 },
      ).catch(() => false);
      expect.soft(unavailable, `${instance.name} /healthz while the volume is full: ${last}`).toBe(true);
    }
    const lines = cluster.instances.flatMap((instance) => instance.output().split("\n"));
    const named = lines.some((line) => /SQLITE_FULL|database or disk is full/.test(line));
    const hidden = lines.find((line) => line.includes("cannot rollback"));
    expect.soft(named, "the log names the real error (SQLITE_FULL / database or disk is full)").toBe(true);
    expect.soft(hidden?.slice(0, 400), "no error hidden behind a failed rollback").toBeUndefined();

    volume.free();
    await waitForSettledRows(cluster, bumped(versions));
    const second = await Promise.all(IDS.map((id, i) => cluster.proxy(i % 2, id)));
    expect.soft(summarize(second)).toEqual({ 200: IDS.length });
    const after = await cluster.emulator.stats();
    expect.soft(after.refreshes - before.refreshes, "upstream refreshes").toBe(IDS.length);
    expect.soft(after.invalid_grants - before.invalid_grants, "invalid_grants").toBe(0);
    expect.soft(await cluster.events("connection.reauth_required")).toEqual([]);
  }, 120_000);
});

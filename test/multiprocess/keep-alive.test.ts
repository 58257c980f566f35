/**
 * Keep-alive on two `airlock serve` processes at once: the emulator's refresh tokens live only
 * 3 days, `AIRLOCK_KEEPALIVE_DAYS=1`, and the clocks of every process jump forward 25 hours at a
 * time for over four days. No connection ever reaches the refresh token's expiry, and Airtable
 * never answers invalid_grant.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { announceClusterSkip, type Cluster, clusterMissing, startCluster, waitFor } from "./harness.js";

announceClusterSkip("keep-alive with a shortened refresh-token lifetime");

const DAY = 24 * 60 * 60;
const IDENTIFIERS = ["keep_a", "keep_b", "keep_c"];

describe.skipIf(clusterMissing !== undefined)("keep-alive across processes", () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({
      label: "keepalive",
      instances: 2,
      refreshTokenTtl: 3 * DAY,
      env: { AIRLOCK_KEEPALIVE_DAYS: "1" },
    });
    for (const identifier of IDENTIFIERS) await cluster.connect(identifier);
  }, 60_000);

  afterAll(async () => {
    await cluster?.close();
  });

  /** Milliseconds since the epoch as the instances see it (they all share one offset here). */
  const instanceNow = () => Date.now() + cluster.instances[0]!.clock.offsetSeconds * 1000;

  it("refreshes every connection before its 3-day refresh token expires, for 4+ days", async () => {
    const before = await cluster.emulator.stats();
    for (let step = 1; step <= 4; step++) {
      await cluster.advanceAll(DAY + 60 * 60);
      // The scheduler's timer runs on monotonic time (10-minute default interval), so a wall-clock
      // jump is noticed at its next tick; every instance also runs one pass at start. Restarting
      // one instance per step (alternating: both do the work) makes the pass happen now.
      await cluster.instances[step % cluster.instances.length]!.restart();
      await waitFor(
        async () => {
          const stale = await cluster.db.query<{ identifier: string }>(
            "SELECT identifier FROM connections WHERE status = 'active' AND last_refreshed_at < $1",
            [instanceNow() - DAY * 1000],
          );
          return stale.length === 0;
        },
        {
          timeoutMs: 40_000,
          intervalMs: 250,
          message: `step ${step}: connections older than a day were not refreshed`,
        },
      );
    }

    const rows = await cluster.db.query<{
      identifier: string;
      status: string;
      refresh_token_expires_at: string;
    }>("SELECT identifier, status, refresh_token_expires_at FROM connections ORDER BY identifier");
    expect(rows.map((row) => row.status)).toEqual(["active", "active", "active"]);
    for (const row of rows) expect(Number(row.refresh_token_expires_at)).toBeGreaterThan(instanceNow());

    const after = await cluster.emulator.stats();
    expect(after.invalid_grants - before.invalid_grants).toBe(0);
    // At least one refresh per connection per jump: 4 jumps × 3 connections.
    expect(after.refreshes - before.refreshes).toBeGreaterThanOrEqual(4 * IDENTIFIERS.length);
    // 100 hours after the connect, well past the original 3-day refresh token, each still works.
    for (const identifier of IDENTIFIERS) {
      const response = await fetch(`${cluster.instances[1]!.url}/v1/proxy/${identifier}/v0/meta/whoami`, {
        headers: { authorization: `Bearer ${cluster.secretKey}` },
      });
      expect(response.status).toBe(200);
    }
  }, 120_000);
});

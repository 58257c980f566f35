/**
 * Airtable's token endpoint fails for a while (503s), then recovers, while two `airlock serve`
 * processes keep serving a connection whose access token is about to expire: nobody marks the
 * connection `reauth_required`, the attempts stay bounded, and the refresh succeeds once the
 * endpoint is back.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  announceClusterSkip,
  type Cluster,
  clusterMissing,
  countBy,
  sleep,
  startCluster,
} from "./harness.js";

announceClusterSkip("token endpoint failing then recovering");

const IDENTIFIER = "flaky_user";
const FAILURES = 3;

describe.skipIf(clusterMissing !== undefined)("token endpoint failing, then recovering", () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({ label: "transient", instances: 2 });
    await cluster.connect(IDENTIFIER);
  }, 60_000);

  afterAll(async () => {
    await cluster?.close();
  });

  it("keeps the connection active, bounds the attempts and recovers", async () => {
    await cluster.emulator.faults({ token: { status: 503, count: FAILURES } });
    const before = await cluster.emulator.stats();
    // 57 minutes later: the token is inside the refresh skew (refresh wanted) but still works.
    await cluster.advanceAll(57 * 60);

    const statuses: number[] = [];
    const deadline = Date.now() + 45_000;
    let recovered = false;
    while (Date.now() < deadline && !recovered) {
      for (const instance of cluster.instances) {
        const response = await fetch(`${instance.url}/v1/proxy/${IDENTIFIER}/v0/meta/whoami`, {
          headers: { authorization: `Bearer ${cluster.secretKey}` },
        });
        await response.arrayBuffer();
        statuses.push(response.status);
      }
      recovered = (await cluster.emulator.stats()).refreshes > before.refreshes;
      await sleep(250);
    }

    expect(recovered, "the refresh never succeeded after the endpoint recovered").toBe(true);
    // The access token still worked throughout: callers never saw the failures.
    expect(countBy(statuses)).toEqual({ 200: statuses.length });
    const after = await cluster.emulator.stats();
    expect(after.refreshes - before.refreshes).toBe(1);
    expect(after.invalid_grants - before.invalid_grants).toBe(0);

    let transient = 0;
    let success = 0;
    for (const instance of cluster.instances) {
      transient += await instance.metric("airlock_refresh_attempts_total", { outcome: "transient" });
      success += await instance.metric("airlock_refresh_attempts_total", { outcome: "success" });
    }
    // Each injected failure was one attempt (across both processes), then exactly one success.
    expect(transient).toBe(FAILURES);
    expect(success).toBe(1);

    const rows = await cluster.db.query<{ status: string; refresh_failures: number }>(
      "SELECT status, refresh_failures FROM connections WHERE identifier = $1",
      [IDENTIFIER],
    );
    expect(rows[0]).toMatchObject({ status: "active", refresh_failures: 0 });
    const reauth = await cluster.db.query("SELECT id FROM events WHERE type = 'connection.reauth_required'");
    expect(reauth).toHaveLength(0);
  }, 60_000);
});

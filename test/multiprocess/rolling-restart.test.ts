/**
 * Issue 7: a rolling restart under load, as a deploy does it. Three `airlock serve` processes on one
 * PostgreSQL behind a load balancer (test/support/balancer.ts: next backend only when a connect is
 * refused or an idle keep-alive socket was reset, like nginx's `proxy_next_upstream error`), the
 * emulator issuing 10-second access tokens so refreshes are due all the time (each takes 1.5 s at the
 * token endpoint), and a steady proxy load of a fixed number of requests. Each instance in turn gets
 * SIGTERM while it holds a refresh lease (what a deploy hits sooner or later), must exit 0, and is
 * started again. Not one request may fail, and no connection may be lost.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Balancer, startBalancer } from "../support/balancer.js";
import {
  type Answer,
  announceClusterSkip,
  type Cluster,
  call,
  clusterMissing,
  sleep,
  startCluster,
  summarize,
  waitFor,
} from "./harness.js";

announceClusterSkip("rolling restart under load (issue 7)");

const IDS = Array.from({ length: 5 }, (_, i) => `rolling_${i}`);
/** 15 requests a second for about 30 s. */
const REQUESTS = 450;
const PER_SECOND = 15;

describe.skipIf(clusterMissing !== undefined)("rolling restart of 3 instances under proxy load", () => {
  let cluster: Cluster;
  let balancer: Balancer;

  beforeAll(async () => {
    cluster = await startCluster({ label: "rolling", instances: 3, accessTokenTtl: 10, latencyMs: 1500 });
    await Promise.all(IDS.map((id) => cluster.connect(id)));
    balancer = await startBalancer(cluster.instances.map((instance) => instance.url));
  }, 90_000);

  afterAll(async () => {
    await balancer?.close();
    await cluster?.close();
  });

  it("0 failed requests, every instance exits 0, every connection stays active, 0 invalid_grant", async () => {
    const before = await cluster.emulator.stats();
    const headers = { authorization: `Bearer ${cluster.secretKey}` };
    const load = (async () => {
      const calls: Promise<Answer>[] = [];
      for (let i = 0; i < REQUESTS; i++) {
        const id = IDS[i % IDS.length]!;
        calls.push(call(`${balancer.url}/v1/proxy/${id}/v0/meta/whoami`, { headers, timeoutMs: 30_000 }));
        await sleep(1000 / PER_SECOND);
      }
      return Promise.all(calls);
    })();

    await sleep(3000);
    const exits: (number | null)[] = [];
    let duringRefresh = 0;
    for (const instance of cluster.instances) {
      // Pick the moment: this instance holds a refresh lease (its pid is in the owner), if that
      // happens within 10 s; the lease owner's format only chooses the moment, nothing asserts it.
      const holding = await waitFor(
        async () => {
          const leases = await cluster.db.query<{ lease_owner: string }>(
            "SELECT lease_owner FROM connections WHERE lease_owner IS NOT NULL",
          );
          return leases.some((row) => row.lease_owner.includes(`:${instance.child.pid}:`));
        },
        { timeoutMs: 10_000, intervalMs: 20 },
      ).catch(() => false);
      if (holding) duringRefresh++;
      exits.push(await instance.stopGracefully("SIGTERM"));
      await instance.start();
      await sleep(2000);
    }
    const answers = await load;

    expect.soft(exits, "exit codes after SIGTERM").toEqual([0, 0, 0]);
    if (duringRefresh === 0) process.stderr.write("[rolling-restart] no SIGTERM met a refresh in flight\n");
    expect.soft(summarize(answers), JSON.stringify(balancer.stats())).toEqual({ 200: REQUESTS });
    const rows = await Promise.all(IDS.map((id) => cluster.row(id)));
    expect
      .soft(rows.map((row) => `${row?.identifier}: ${row?.status} ${row?.status_reason ?? ""}`.trim()))
      .toEqual(IDS.map((id) => `${id}: active`));
    const after = await cluster.emulator.stats();
    expect.soft(after.invalid_grants - before.invalid_grants, "invalid_grants").toBe(0);
    // Refreshes really were due during the restarts (10-second tokens).
    expect.soft(after.refreshes - before.refreshes, "upstream refreshes").toBeGreaterThan(IDS.length);
    expect.soft(await cluster.events("connection.reauth_required")).toEqual([]);
  }, 120_000);
});

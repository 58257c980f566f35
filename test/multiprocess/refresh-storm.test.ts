/**
 * Three `airlock serve` processes on one PostgreSQL, the emulator as a fourth process (token
 * endpoint latency 300 ms): a storm of proxied requests right when the access token expires causes
 * exactly one refresh at Airtable, whether the service knows the token expired (its clock moved)
 * or only Airtable does (the emulator's clock jumped, so every instance meets a 401).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  announceClusterSkip,
  burst,
  type Cluster,
  clusterMissing,
  countBy,
  type EmulatorStats,
  startCluster,
} from "./harness.js";

announceClusterSkip("refresh storm (3 instances, 600 requests)");

const REQUESTS = 600;
const IDENTIFIER = "storm_user";

describe.skipIf(clusterMissing !== undefined)("refresh storm across 3 processes", () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({ label: "storm", instances: 3 });
    await cluster.connect(IDENTIFIER);
  }, 60_000);

  afterAll(async () => {
    await cluster?.close();
  });

  const proxyUrl = (index: number) =>
    `${cluster.instances[index % cluster.instances.length]!.url}/v1/proxy/${IDENTIFIER}/v0/meta/whoami`;
  const storm = () =>
    burst(REQUESTS, proxyUrl, { headers: { authorization: `Bearer ${cluster.secretKey}` } });

  /** Runs the storm and checks the promise: every request answered 200, exactly one refresh, no invalid_grant. */
  const stormWithOneRefresh = async (before: EmulatorStats): Promise<EmulatorStats> => {
    const { statuses, bodies } = await storm();
    const after = await cluster.emulator.stats();
    expect(
      countBy(statuses),
      bodies.find((_, i) => statuses[i] !== 200),
    ).toEqual({ 200: REQUESTS });
    expect(after.refreshes - before.refreshes).toBe(1);
    expect(after.invalid_grants).toBe(0);
    return after;
  };

  it("600 concurrent requests right after expiry: all 200, exactly 1 refresh, 0 invalid_grant", async () => {
    // Warm every instance (token cache filled) while the token is fresh: no refresh yet.
    const warm = await burst(3, proxyUrl, { headers: { authorization: `Bearer ${cluster.secretKey}` } });
    expect(warm.statuses).toEqual([200, 200, 200]);
    const before = await cluster.emulator.stats();
    expect(before.refreshes).toBe(0);

    // 61 minutes pass for everyone: the access token (60 min) is expired in every process's eyes.
    await cluster.advanceAll(61 * 60);
    const after = await stormWithOneRefresh(before);
    const connection = (await (await cluster.api(`/v1/connections/${IDENTIFIER}`)).json()) as {
      status: string;
    };
    expect(connection.status).toBe("active");
    // The services knew the token had expired: no request reached Airtable with it (no 401 retries).
    expect(after.api_requests - before.api_requests).toBe(REQUESTS);
    // The refresh happened on a moved clock (libfaketime), not on the real one.
    const [row] = await cluster.db.query<{ last_refreshed_at: string }>(
      "SELECT last_refreshed_at FROM connections WHERE identifier = $1",
      [IDENTIFIER],
    );
    expect(Number(row!.last_refreshed_at)).toBeGreaterThan(Date.now() + 60 * 60 * 1000);
  }, 60_000);

  it("token expired only at Airtable (emulator clock jump): the 401 storm causes exactly 1 refresh", async () => {
    const before = await cluster.emulator.stats();
    // Only the emulator moves: every instance still believes its cached token has ~59 minutes left.
    await cluster.emulator.advanceClock(61 * 60);
    const after = await stormWithOneRefresh(before);
    // It really was a 401 storm: requests met the dead token, and each was retried at most once.
    expect(after.api_requests - before.api_requests).toBeGreaterThan(REQUESTS);
    expect(after.api_requests - before.api_requests).toBeLessThanOrEqual(2 * REQUESTS);
    const connection = (await (
      await cluster.api(`/v1/connections/${IDENTIFIER}`, { instance: 2 })
    ).json()) as {
      status: string;
    };
    expect(connection.status).toBe("active");
  }, 60_000);
});

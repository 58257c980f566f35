/**
 * Several integrations across processes (issue 12): three `airlock serve` processes on one
 * PostgreSQL with the default integration and "readonly" (AIRLOCK_INTEGRATIONS_FILE), the emulator
 * a fourth process hosting both clients (token endpoint latency 300 ms). The same identifier is
 * connected on both; a storm of proxied requests to both, right when both access tokens expire,
 * causes exactly one refresh per integration, each with its own client, and no invalid_grant.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  announceClusterSkip,
  burst,
  type Cluster,
  clusterMissing,
  countBy,
  startCluster,
} from "./harness.js";

announceClusterSkip("several integrations (3 instances, 600 requests on 2 integrations)");

const REQUESTS = 600;
const IDENTIFIER = "shared_user";

describe.skipIf(clusterMissing !== undefined)("several integrations across 3 processes", () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({ label: "integrations", instances: 3, integrations: ["readonly"] });
    await cluster.connect(IDENTIFIER);
    await cluster.connect(IDENTIFIER, "readonly");
  }, 60_000);

  afterAll(async () => {
    await cluster?.close();
  });

  /** Even requests go to the default integration's proxy, odd ones to readonly's, over every instance. */
  const proxyUrl = (index: number) => {
    const base = cluster.instances[index % cluster.instances.length]!.url;
    const prefix = index % 2 === 0 ? "/v1" : "/v1/integrations/readonly";
    return `${base}${prefix}/proxy/${IDENTIFIER}/v0/meta/whoami`;
  };
  const rows = () =>
    cluster.db.query<{ integration_id: string; version: string; status: string }>(
      "SELECT integration_id, version, status FROM connections WHERE identifier = $1 ORDER BY integration_id",
      [IDENTIFIER],
    );

  it("keeps two connections for one identifier, each answered with its own integration's token", async () => {
    expect((await rows()).map((r) => [r.integration_id, Number(r.version), r.status])).toEqual([
      ["default", 1, "active"],
      ["readonly", 1, "active"],
    ]);
    const { statuses, bodies } = await burst(6, proxyUrl, {
      headers: { authorization: `Bearer ${cluster.secretKey}` },
    });
    expect(countBy(statuses)).toEqual({ 200: 6 });
    const scopes = bodies.map((body) => (JSON.parse(body) as { scopes: string[] }).scopes.join(" "));
    // The readonly integration's grant has exactly its two scopes; the default's has more.
    expect(scopes.filter((_, i) => i % 2 === 1)).toEqual(
      Array(3).fill("data.records:read schema.bases:read"),
    );
    expect(
      scopes.filter((_, i) => i % 2 === 0).every((s) => s !== "data.records:read schema.bases:read"),
    ).toBe(true);
  });

  it("600 concurrent requests on both integrations right after expiry: all 200, one refresh each", async () => {
    const before = await cluster.emulator.stats();
    // 61 minutes pass for everyone: both access tokens (60 min) are expired in every process's eyes.
    await cluster.advanceAll(61 * 60);
    const { statuses, bodies } = await burst(REQUESTS, proxyUrl, {
      headers: { authorization: `Bearer ${cluster.secretKey}` },
    });
    const after = await cluster.emulator.stats();
    expect(
      countBy(statuses),
      bodies.find((_, i) => statuses[i] !== 200),
    ).toEqual({ 200: REQUESTS });
    expect(after.refreshes - before.refreshes).toBe(2);
    expect(after.invalid_grants).toBe(0);
    expect(after.invalid_clients).toBe(0);
    // One refresh per connection: each row moved exactly one version, and stays active.
    expect((await rows()).map((r) => [r.integration_id, Number(r.version), r.status])).toEqual([
      ["default", 2, "active"],
      ["readonly", 2, "active"],
    ]);
  }, 60_000);
});

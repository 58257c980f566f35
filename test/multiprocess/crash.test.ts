/**
 * `kill -9` of the lease holder in the middle of a refresh, on two `airlock serve` processes sharing
 * one PostgreSQL. Before Airtable rotated: the next holder refreshes normally once the lease
 * expires. After Airtable rotated (emulator fault "rotate then drop the response"): the connection
 * becomes `reauth_required` with reason `refresh_interrupted`, one event, and nobody keeps trying.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  announceClusterSkip,
  type Cluster,
  clusterMissing,
  type EmulatorStats,
  type Instance,
  startCluster,
  waitFor,
} from "./harness.js";

announceClusterSkip("kill -9 of the lease holder mid-refresh");

const HOUR_PLUS = 61 * 60;

interface Row {
  status: string;
  status_reason: string | null;
  lease_owner: string | null;
  version: string | number;
}

describe.skipIf(clusterMissing !== undefined)("kill -9 of the lease holder mid-refresh", () => {
  let cluster: Cluster;
  let holder: Instance;
  let survivor: Instance;

  beforeAll(async () => {
    cluster = await startCluster({ label: "crash", instances: 2 });
    [holder, survivor] = cluster.instances as [Instance, Instance];
  }, 60_000);

  afterAll(async () => {
    await cluster?.close();
  });

  const row = async (identifier: string) =>
    (
      await cluster.db.query<Row>(
        "SELECT status, status_reason, lease_owner, version FROM connections WHERE identifier = $1",
        [identifier],
      )
    )[0];
  const events = async (identifier: string, type: string) =>
    (await cluster.db.query("SELECT id FROM events WHERE identifier = $1 AND type = $2", [identifier, type]))
      .length;
  const proxy = (instance: Instance, identifier: string) =>
    fetch(`${instance.url}/v1/proxy/${identifier}/v0/meta/whoami`, {
      headers: { authorization: `Bearer ${cluster.secretKey}` },
      signal: AbortSignal.timeout(25_000),
    });
  const attemptsSince = (before: EmulatorStats, after: EmulatorStats) =>
    after.refreshes - before.refreshes + (after.invalid_grants - before.invalid_grants);

  /** Starts a refresh on the holder only (its clock alone passes expiry) and waits until it holds the lease. */
  async function startRefreshOnHolder(identifier: string): Promise<void> {
    holder.clock.advance(HOUR_PLUS);
    await cluster.emulator.advanceClock(HOUR_PLUS);
    void proxy(holder, identifier).catch(() => undefined); // dies with the holder
    await waitFor(async () => (await row(identifier))?.lease_owner, {
      timeoutMs: 10_000,
      message: "the holder never took the refresh lease",
    });
  }

  /** Puts the survivor's clock past the dead holder's lease (the lease expires; nobody released it). */
  function moveSurvivorPastLease(): void {
    survivor.clock.advance(holder.clock.offsetSeconds + 10 * 60 - survivor.clock.offsetSeconds);
  }

  it("holder killed before Airtable rotated: the next holder refreshes normally", async () => {
    const identifier = "crash_before";
    await cluster.connect(identifier);
    const versionBefore = Number((await row(identifier))!.version);
    // The holder's refresh request hangs at Airtable (10 s) and is never processed: no rotation.
    await cluster.emulator.faults({ token: { status: 503, delay_ms: 10_000, count: 1 } });
    await startRefreshOnHolder(identifier);
    const atKill = await cluster.emulator.stats();
    holder.child.process.kill("SIGKILL");
    await holder.child.exited;
    await cluster.emulator.faults({ token: null });

    moveSurvivorPastLease();
    const response = await proxy(survivor, identifier);
    expect(response.status, await response.clone().text()).toBe(200);

    const after = await cluster.emulator.stats();
    expect(after.refreshes - atKill.refreshes).toBe(1);
    expect(after.invalid_grants - atKill.invalid_grants).toBe(0);
    const final = (await row(identifier))!;
    expect(final.status).toBe("active");
    expect(final.lease_owner).toBeNull();
    expect(Number(final.version)).toBe(versionBefore + 1);
    expect(await events(identifier, "connection.reauth_required")).toBe(0);
    expect(await events(identifier, "connection.refreshed")).toBeLessThanOrEqual(1);

    await holder.restart();
  }, 60_000);

  it("holder killed after Airtable rotated: reauth_required (refresh_interrupted), one event, no retry storm", async () => {
    const identifier = "crash_after";
    await cluster.connect(identifier);
    // Airtable holds the request 3 s, then processes it (rotating the tokens) and drops the response.
    await cluster.emulator.faults({ token: { rotate_then_drop: true, delay_ms: 3000, count: 1 } });
    const beforeRefresh = await cluster.emulator.stats();
    await startRefreshOnHolder(identifier);
    // Freeze the holder while its request is in flight, so it cannot react to the dropped response,
    // let Airtable rotate, then kill it: it died after the rotation and before saving.
    holder.child.process.kill("SIGSTOP");
    await waitFor(async () => (await cluster.emulator.stats()).refreshes > beforeRefresh.refreshes, {
      timeoutMs: 15_000,
      message: "the emulator never rotated the tokens",
    });
    holder.child.process.kill("SIGKILL");
    await holder.child.exited;
    const atKill = await cluster.emulator.stats();

    moveSurvivorPastLease();
    const response = await proxy(survivor, identifier);
    expect(response.status).not.toBe(200);
    const final = (await row(identifier))!;
    expect(final.status).toBe("reauth_required");
    expect(final.status_reason).toBe("refresh_interrupted");
    const reauthEvents = await cluster.db.query<{ data: string }>(
      "SELECT data FROM events WHERE identifier = $1 AND type = 'connection.reauth_required'",
      [identifier],
    );
    expect(reauthEvents.map((event) => JSON.parse(event.data))).toEqual([{ reason: "refresh_interrupted" }]);

    // Nobody keeps trying the dead token: more calls on both instances reach no token endpoint.
    await holder.restart();
    holder.clock.advance(survivor.clock.offsetSeconds - holder.clock.offsetSeconds);
    for (const instance of [survivor, holder, survivor]) {
      const again = await proxy(instance, identifier);
      expect(again.status).not.toBe(200);
    }
    const token = await cluster.api(`/v1/connections/${identifier}/access-token`, {
      method: "POST",
      instance: 1,
    });
    expect(token.status).not.toBe(200);
    const after = await cluster.emulator.stats();
    expect(attemptsSince(atKill, after)).toBeLessThanOrEqual(1);
    expect(await events(identifier, "connection.reauth_required")).toBe(1);
    const listed = (await (await cluster.api(`/v1/connections/${identifier}`)).json()) as { status: string };
    expect(listed.status).toBe("reauth_required");
  }, 60_000);
});

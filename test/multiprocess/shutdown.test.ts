/**
 * The shutdown deadline and the second signal, on a real `airlock serve` process (SQLite, the
 * emulator as its own process): a request that outlives AIRLOCK_SHUTDOWN_TIMEOUT_SECONDS is cut
 * and the process still exits 0; a second SIGTERM exits at once (130) instead of waiting.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { libfaketimeMissing } from "../support/faketime.js";
import { announceSkip } from "../support/skip.js";
import { type Cluster, sleep, startCluster } from "./harness.js";

const missing = libfaketimeMissing();
announceSkip("multiprocess", "shutdown deadline and second signal", missing);

describe.skipIf(missing !== undefined)("shutdown deadline and second signal", () => {
  let cluster: Cluster | undefined;
  let dir: string | undefined;

  afterEach(async () => {
    await cluster?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function startOne(env: Record<string, string>): Promise<Cluster> {
    dir = mkdtempSync(join(tmpdir(), "airlock-shutdown-"));
    cluster = await startCluster({
      label: "shutdown",
      instances: 1,
      latencyMs: 0,
      database: { sqlite: join(dir, "airlock.db") },
      env,
    });
    await cluster.connect("user_1");
    return cluster;
  }

  /** A proxied call the emulator holds for `ms`, already in flight when this resolves (to its status). */
  async function slowCall(c: Cluster, ms: number): Promise<{ status: Promise<number> }> {
    await c.emulator.faults({ api: { delay_ms: ms, count: 1 } });
    const call = fetch(`${c.instances[0]!.url}/v1/proxy/user_1/v0/meta/whoami`, {
      headers: { authorization: `Bearer ${c.secretKey}` },
    }).then(
      async (response) => {
        await response.arrayBuffer();
        return response.status;
      },
      () => 0,
    );
    await sleep(300);
    return { status: call };
  }

  it("cuts what outlives the deadline and exits 0", async () => {
    const c = await startOne({ AIRLOCK_SHUTDOWN_TIMEOUT_SECONDS: "1" });
    const call = await slowCall(c, 20_000);
    const code = await c.instances[0]!.stopGracefully("SIGTERM", 15_000);
    expect(code).toBe(0);
    expect(await call.status).toBe(0); // cut at the deadline, not answered 20 s later
  }, 60_000);

  it("exits at once on a second signal", async () => {
    const c = await startOne({ AIRLOCK_SHUTDOWN_TIMEOUT_SECONDS: "60" });
    const instance = c.instances[0]!;
    const call = await slowCall(c, 20_000);
    instance.child.process.kill("SIGTERM");
    await instance.child.waitForOutput(/shutting down/);
    // Still draining: the in-flight call holds it.
    await sleep(500);
    expect(instance.child.process.exitCode).toBeNull();
    const code = await instance.stopGracefully("SIGTERM", 10_000);
    expect(code).toBe(130);
    expect(await call.status).toBe(0);
  }, 60_000);
});

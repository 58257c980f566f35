/**
 * Proxy overhead: the same load generator against the emulator's `/v0/meta/whoami` directly and
 * through `airlock serve`'s proxy, in the same run, alternating so drift hits both equally.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startService } from "./env.js";
import { type LoadResult, percentile, runLoad } from "./load.js";

export interface ProxyResult {
  connections: number;
  durationSecondsEach: number;
  direct: LoadResult;
  proxy: LoadResult;
  addedP50Ms: number;
  throughputRatio: number;
}

const IDENTIFIER = "bench_user";

export async function benchProxy(
  options: { connections?: number; durationMs?: number } = {},
): Promise<ProxyResult> {
  const connections = options.connections ?? 16;
  const durationMs = options.durationMs ?? 4000;
  const dir = mkdtempSync(join(tmpdir(), "airlock-bench-proxy-"));
  const service = await startService({
    databaseUrl: join(dir, "airlock.db"),
    identifier: IDENTIFIER,
    latencyMs: 0,
  });
  try {
    const tokenResponse = await fetch(`${service.url}/v1/connections/${IDENTIFIER}/access-token`, {
      method: "POST",
      headers: { authorization: `Bearer ${service.secretKey}` },
    });
    if (!tokenResponse.ok) throw new Error(`access-token: HTTP ${tokenResponse.status}`);
    const { access_token } = (await tokenResponse.json()) as { access_token: string };
    const direct = {
      url: `${service.emulator.url}/v0/meta/whoami`,
      headers: { authorization: `Bearer ${access_token}` },
    };
    const proxied = {
      url: `${service.url}/v1/proxy/${IDENTIFIER}/v0/meta/whoami`,
      headers: { authorization: `Bearer ${service.secretKey}` },
    };
    const half = Math.round(durationMs / 2);
    const d1 = await runLoad({ ...direct, connections, durationMs: half, warmupMs: 1000 });
    const p1 = await runLoad({ ...proxied, connections, durationMs: half, warmupMs: 1000 });
    const p2 = await runLoad({ ...proxied, connections, durationMs: half });
    const d2 = await runLoad({ ...direct, connections, durationMs: half });
    const directResult = merge(d1, d2);
    const proxyResult = merge(p1, p2);
    return {
      connections,
      durationSecondsEach: durationMs / 1000,
      direct: directResult,
      proxy: proxyResult,
      addedP50Ms: round(proxyResult.p50Ms - directResult.p50Ms),
      throughputRatio: round(proxyResult.requestsPerSecond / directResult.requestsPerSecond),
    };
  } finally {
    await service.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Combines two halves: counts add up, the rate is over the total time, percentiles over all samples. */
function merge(a: LoadResult & { latencies: number[] }, b: LoadResult & { latencies: number[] }): LoadResult {
  const statuses: Record<string, number> = { ...a.statuses };
  for (const [code, n] of Object.entries(b.statuses)) statuses[code] = (statuses[code] ?? 0) + n;
  const durationSeconds = a.durationSeconds + b.durationSeconds;
  const all = [...a.latencies, ...b.latencies].sort((x, y) => x - y);
  return {
    requests: all.length,
    errors: a.errors + b.errors,
    statuses,
    durationSeconds: round(durationSeconds),
    requestsPerSecond: round(all.length / durationSeconds),
    p50Ms: round(percentile(all, 0.5)),
    p90Ms: round(percentile(all, 0.9)),
    p99Ms: round(percentile(all, 0.99)),
  };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

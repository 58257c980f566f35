/**
 * Proxy overhead: the same load generator against the emulator's `/v0/meta/whoami` directly and
 * through `airlock serve`'s proxy, in the same run, alternating so drift hits both equally.
 *
 * Three OS processes: this one (the load generator), the emulator and `airlock serve`. Each phase
 * also records the CPU time every process spent per request (from /proc), so the table can say
 * where the machine's cores went: on a 2-core box the proxied chain runs three busy processes on
 * two cores while the direct one runs two, which bounds the throughput ratio by itself.
 *
 * So the comparison is made twice. "Shared": all three processes float over every core. "Own
 * core": the generator and the emulator are pinned to core 0 and the service to core 1 (taskset),
 * the way a deployment looks (the caller and Airtable do not run on the proxy's machine); the
 * direct run then gets exactly the CPU it had, and the question is whether the proxy, given a core
 * of its own, keeps up. Both are reported; the throughput target is judged on the second.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../test/multiprocess/harness.js";
import { startService } from "./env.js";
import { type LoadResult, percentile, runLoad } from "./load.js";

/** CPU microseconds per completed request, by process, and the cores busy on average. */
export interface CpuShare {
  generatorUsPerRequest: number;
  emulatorUsPerRequest: number;
  serviceUsPerRequest: number;
  coresBusy: number;
}

export interface Comparison {
  direct: LoadResult & { cpu: CpuShare };
  proxy: LoadResult & { cpu: CpuShare };
  addedP50Ms: number;
  throughputRatio: number;
}

export interface ProxyResult {
  connections: number;
  durationSecondsEach: number;
  direct: LoadResult & { cpu: CpuShare };
  proxy: LoadResult & { cpu: CpuShare };
  addedP50Ms: number;
  throughputRatio: number;
  /** One connection, no queueing: the latency the proxy adds to a single request (reported only). */
  unloaded: { directP50Ms: number; proxyP50Ms: number; addedP50Ms: number };
  /** The same comparison with the service on a core of its own (null where taskset or a 2nd core is missing). */
  ownCore: Comparison | null;
}

const IDENTIFIER = "bench_user";
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** utime + stime of a process, in seconds (Linux /proc; 0 elsewhere). */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

type Phase = LoadResult & { latencies: number[]; cpuSeconds: [number, number, number] };

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
    // Profiling: BENCH_PROFILE_DIR=/tmp/prof npm run bench -- proxy (see bench/cpu-profile.mjs).
    ...(process.env.BENCH_PROFILE_DIR
      ? {
          env: {
            NODE_OPTIONS: `--import=${join(ROOT, "bench/cpu-profile.mjs")}`,
            BENCH_PROFILE_DIR: process.env.BENCH_PROFILE_DIR,
          },
        }
      : {}),
  });
  const pids = [process.pid, service.emulator.child.pid, service.child.pid] as const;
  const sample = () => pids.map(cpuSeconds) as [number, number, number];
  const measured = async (load: Parameters<typeof runLoad>[0]): Promise<Phase> => {
    // The warm-up runs inside runLoad before its clock starts; CPU is sampled around the whole
    // call, so subtract the warm-up share by sampling after a separate warm-up instead.
    if (load.warmupMs) await runLoad({ ...load, durationMs: load.warmupMs, warmupMs: 0 });
    const before = sample();
    const result = await runLoad({ ...load, warmupMs: 0 });
    const after = sample();
    return {
      ...result,
      cpuSeconds: [0, 1, 2].map((i) => after[i]! - before[i]!) as [number, number, number],
    };
  };
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
    // Same generator, same connection count; each target warmed up before its first timed phase;
    // order d, p, p, d so slow drift of the machine's load hits both sides alike.
    const compare = async (): Promise<Comparison> => {
      const d1 = await measured({ ...direct, connections, durationMs: half, warmupMs: 1000 });
      const p1 = await measured({ ...proxied, connections, durationMs: half, warmupMs: 1000 });
      const p2 = await measured({ ...proxied, connections, durationMs: half });
      const d2 = await measured({ ...direct, connections, durationMs: half });
      const directResult = merge(d1, d2);
      const proxyResult = merge(p1, p2);
      return {
        direct: directResult,
        proxy: proxyResult,
        addedP50Ms: round(proxyResult.p50Ms - directResult.p50Ms),
        throughputRatio: round(proxyResult.requestsPerSecond / directResult.requestsPerSecond),
      };
    };
    const shared = await compare();
    // Unloaded latency: one connection, so no request waits behind another.
    const u1 = await measured({ ...direct, connections: 1, durationMs: 1000, warmupMs: 300 });
    const u2 = await measured({ ...proxied, connections: 1, durationMs: 1000, warmupMs: 300 });
    let ownCore: Comparison | null = null;
    if (canPin()) {
      pin(process.pid, "0");
      pin(service.emulator.child.pid!, "0");
      pin(service.child.pid!, "1");
      try {
        ownCore = await compare();
      } finally {
        const all = `0-${availableParallelism() - 1}`;
        for (const pid of pids) pin(pid!, all);
      }
    }
    return {
      connections,
      durationSecondsEach: durationMs / 1000,
      ...shared,
      ownCore,
      unloaded: {
        directP50Ms: round(u1.p50Ms),
        proxyP50Ms: round(u2.p50Ms),
        addedP50Ms: round(u2.p50Ms - u1.p50Ms),
      },
    };
  } finally {
    await service.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Combines two halves: counts add up, the rate is over the total time, percentiles over all samples. */
function merge(a: Phase, b: Phase): LoadResult & { cpu: CpuShare } {
  const statuses: Record<string, number> = { ...a.statuses };
  for (const [code, n] of Object.entries(b.statuses)) statuses[code] = (statuses[code] ?? 0) + n;
  const durationSeconds = a.durationSeconds + b.durationSeconds;
  const all = [...a.latencies, ...b.latencies].sort((x, y) => x - y);
  const cpu = [0, 1, 2].map((i) => a.cpuSeconds[i]! + b.cpuSeconds[i]!);
  const perRequest = (seconds: number) => Math.round((seconds / Math.max(1, all.length)) * 1e6 * 10) / 10;
  return {
    requests: all.length,
    errors: a.errors + b.errors,
    statuses,
    durationSeconds: round(durationSeconds),
    requestsPerSecond: round(all.length / durationSeconds),
    p50Ms: round(percentile(all, 0.5)),
    p90Ms: round(percentile(all, 0.9)),
    p99Ms: round(percentile(all, 0.99)),
    cpu: {
      generatorUsPerRequest: perRequest(cpu[0]!),
      emulatorUsPerRequest: perRequest(cpu[1]!),
      serviceUsPerRequest: perRequest(cpu[2]!),
      coresBusy: round((cpu[0]! + cpu[1]! + cpu[2]!) / durationSeconds),
    },
  };
}

function canPin(): boolean {
  if (availableParallelism() < 2) return false;
  try {
    execFileSync("taskset", ["-p", String(process.pid)], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Sets the CPU affinity of every thread of `pid` (taskset's list syntax: "0", "1", "0-1"). */
function pin(pid: number, cpus: string): void {
  execFileSync("taskset", ["-a", "-p", "-c", cpus, String(pid)], { stdio: "ignore" });
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

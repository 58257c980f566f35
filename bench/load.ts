/**
 * A small closed-loop HTTP load generator on undici (the same one for every target, so the numbers
 * compare): `connections` workers each send the next request as soon as the previous answer has
 * been read, for a fixed duration. Loopback targets only.
 */
import { Pool } from "undici";

export interface LoadResult {
  requests: number;
  errors: number;
  /** Status codes seen, e.g. {"200": 12345}. */
  statuses: Record<string, number>;
  durationSeconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
}

export interface LoadOptions {
  url: string;
  headers?: Record<string, string>;
  connections: number;
  durationMs: number;
  /** Untimed requests first (connection setup, JIT, caches). */
  warmupMs?: number;
}

/**
 * @example
 * const result = await runLoad({ url: "http://127.0.0.1:4000/v1/proxy/u/v0/meta/whoami", connections: 32, durationMs: 5000 });
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult & { latencies: number[] }> {
  const target = new URL(options.url);
  if (!["127.0.0.1", "localhost", "[::1]"].includes(target.hostname)) {
    throw new Error(`the benchmark only loads loopback addresses, not ${target.hostname}`);
  }
  const pool = new Pool(target.origin, { connections: options.connections, pipelining: 1 });
  const path = `${target.pathname}${target.search}`;
  const headers = options.headers ?? {};
  const once = async (): Promise<number> => {
    const response = await pool.request({ path, method: "GET", headers });
    await response.body.dump();
    return response.statusCode;
  };
  try {
    if (options.warmupMs) await phase(options.connections, options.warmupMs, once, null);
    const latencies: number[] = [];
    const statuses: Record<string, number> = {};
    let errors = 0;
    const started = process.hrtime.bigint();
    await phase(options.connections, options.durationMs, once, {
      record(ms, status) {
        latencies.push(ms);
        if (status === 0) errors++;
        else statuses[status] = (statuses[status] ?? 0) + 1;
      },
    });
    const durationSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    latencies.sort((a, b) => a - b);
    return {
      requests: latencies.length,
      errors,
      statuses,
      durationSeconds,
      requestsPerSecond: latencies.length / durationSeconds,
      p50Ms: percentile(latencies, 0.5),
      p90Ms: percentile(latencies, 0.9),
      p99Ms: percentile(latencies, 0.99),
      latencies,
    };
  } finally {
    await pool.close();
  }
}

async function phase(
  workers: number,
  durationMs: number,
  once: () => Promise<number>,
  sink: { record(ms: number, status: number): void } | null,
): Promise<void> {
  const deadline = performance.now() + durationMs;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() < deadline) {
        const start = performance.now();
        let status = 0;
        try {
          status = await once();
        } catch {
          status = 0;
        }
        sink?.record(performance.now() - start, status);
      }
    }),
  );
}

/** Nearest-rank percentile of a sorted array (0 when empty). */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index]!;
}

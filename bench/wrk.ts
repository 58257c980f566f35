/**
 * Running wrk (pinned with taskset) and reading its report, plus the small process helpers the
 * side-by-side comparison needs: which tools are installed, CPU time of a process tree, pinning.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

export interface WrkResult {
  requests: number;
  durationSeconds: number;
  requestsPerSecond: number;
  non2xx: number;
  socketErrors: number;
  p50Ms: number;
  p99Ms: number;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

/** A wrk duration such as `612.00us`, `1.20ms` or `2.00s`, in milliseconds. */
export function parseWrkDuration(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!match) throw new Error(`not a wrk duration: ${text}`);
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}

/**
 * wrk's text report (run with `--latency`) as numbers.
 *
 * @example
 * parseWrk(execFileSync("wrk", ["--latency", "-c16", "-d5s", url], { encoding: "utf8" })).requestsPerSecond
 */
export function parseWrk(output: string): WrkResult {
  const latency = (q: string) => {
    const match = new RegExp(`^\\s*${q}%\\s+(\\S+)`, "m").exec(output);
    if (!match) throw new Error(`wrk output has no ${q}% latency line:\n${output}`);
    return parseWrkDuration(match[1]!);
  };
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(output);
  if (!total) throw new Error(`wrk output has no request count:\n${output}`);
  const durationSeconds = parseWrkDuration(`${total[2]}${total[3]}`) / 1000;
  const requests = Number(total[1]);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  return {
    requests,
    durationSeconds,
    requestsPerSecond: Math.round(requests / durationSeconds),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0),
    socketErrors: errors ? errors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0,
    p50Ms: latency("50"),
    p99Ms: latency("99"),
  };
}

/** Runs wrk on `core` (one thread, `connections` keep-alive connections) and parses its report. */
export function runWrk(options: {
  url: string;
  headers: Record<string, string>;
  connections: number;
  seconds: number;
  core: string;
}): WrkResult {
  const args = [
    "-c",
    options.core,
    "wrk",
    "--latency",
    "-t1",
    `-c${options.connections}`,
    `-d${options.seconds}s`,
  ];
  for (const [name, value] of Object.entries(options.headers)) args.push("-H", `${name}: ${value}`);
  args.push(options.url);
  const run = spawnSync("taskset", args, { encoding: "utf8", timeout: (options.seconds + 30) * 1000 });
  if (run.status !== 0) throw new Error(`wrk failed (${run.status}): ${run.stderr}${run.stdout}`);
  return parseWrk(run.stdout);
}

/** The tools a section needs that are not on PATH, with the Debian package that provides each. */
export function missingTools(tools: Record<string, string>): string[] {
  const missing: string[] = [];
  for (const [tool, pkg] of Object.entries(tools)) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" }).status !== 0) missing.push(pkg);
  }
  return missing;
}

/** Throws a readable error naming what to install when any of `tools` (name → package) is absent. */
export function requireTools(tools: Record<string, string>): void {
  const missing = missingTools(tools);
  if (missing.length > 0) {
    throw new Error(
      `needs ${missing.join(", ")} on PATH: apt-get install -y ${[...new Set(missing)].join(" ")}`,
    );
  }
}

/** A process and its children (one level: nginx's master and workers), from /proc. */
export function processTree(pid: number): number[] {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
    return [pid, ...(children ? children.split(/\s+/).map(Number) : [])];
  } catch {
    return [pid];
  }
}

/** utime + stime of the processes, in seconds (USER_HZ = 100 on Linux). */
export function cpuSeconds(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      total += (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      // gone: counts nothing
    }
  }
  return total;
}

/** Pins every thread of each process to `cpus` (taskset list syntax: "0", "1", "0-1"). */
export function pin(pids: readonly number[], cpus: string): void {
  for (const pid of pids) execFileSync("taskset", ["-a", "-p", "-c", cpus, String(pid)], { stdio: "ignore" });
}

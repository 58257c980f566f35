/**
 * `npm run bench`: runs every section (about 8 minutes on 2 cores), prints a table and writes
 * `bench/results.json`. Targets are reported as pass/fail; the run itself never fails on a target,
 * only on a section that could not run at all (its error is recorded and the others still run).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { ROOT, stopAll } from "../test/multiprocess/harness.js";
import { benchCli } from "./cli.js";
import { benchCompare, type CompareRow } from "./compare.js";
import { benchProxy, type Comparison } from "./proxy.js";
import { benchScale } from "./scale.js";
import { benchHotPath, benchStorm } from "./tokens.js";

interface Target {
  name: string;
  target: string;
  measured: string;
  pass: boolean;
  /** A number shown for context, not checked against a target (printed as INFO). */
  info?: boolean;
  /** The section that produced it (a run of some sections keeps the other sections' rows). */
  section?: string;
}

const results: Record<string, unknown> = {
  startedAt: new Date().toISOString(),
  machine: { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model ?? "unknown" },
};
const targets: Target[] = [];
const errors: Record<string, string> = {};

/**
 * `npm run bench -- compare cli` runs only the named sections (all when none are named). Flags:
 * `--size N` scale rows (default 1,000,000), `--due N` of them due for keep-alive (5,000),
 * `--seconds N` per compare measurement (5), `--quick` (100,000 rows, 1,000 due, 2 s).
 */
const { only, flags } = parseArgs(process.argv.slice(2));

function parseArgs(argv: string[]): { only: Set<string>; flags: Record<string, number> } {
  const names = new Set<string>();
  const values: Record<string, number> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--quick") Object.assign(values, { size: 100_000, due: 1_000, seconds: 2 });
    else if (arg.startsWith("--")) values[arg.slice(2)] = Number(argv[++i]);
    else names.add(arg);
  }
  return { only: names, flags: values };
}

async function section<T>(name: string, run: () => Promise<T>, check: (result: T) => void): Promise<void> {
  if (only.size > 0 && !only.has(name)) return;
  process.stderr.write(`bench: ${name}...\n`);
  const started = performance.now();
  const first = targets.length;
  try {
    const result = await run();
    results[name] = result;
    check(result);
    for (const target of targets.slice(first)) target.section = name;
  } catch (error) {
    errors[name] = error instanceof Error ? error.message : String(error);
    process.stderr.write(`bench: ${name} could not run: ${errors[name]}\n`);
  } finally {
    await stopAll();
  }
  process.stderr.write(`bench: ${name} took ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}

await section(
  "compare",
  () => benchCompare(flags.seconds ? { seconds: flags.seconds } : {}),
  (r) => checkCompare(r.rows),
);

await section(
  "cli",
  () => benchCli(),
  (r) => {
    targets.push({
      name: "airlock token (no refresh due) vs node -e 0",
      target: "≤ 1.5×",
      measured: `${r.ratio}× (${r.tokenMs} ± ${r.tokenStddevMs} ms vs ${r.floorMs} ± ${r.floorStddevMs} ms)`,
      pass: r.ratio <= 1.5,
    });
    targets.push({
      name: "airlock token CPU (user + system) vs node -e 0",
      target: "(reported)",
      measured: `${r.cpuRatio}× (${r.tokenCpuMs} vs ${r.floorCpuMs} ms)`,
      pass: true,
      info: true,
    });
  },
);

await section(
  "proxy",
  () => benchProxy(),
  (r) => {
    targets.push({
      name: "proxy added latency (p50)",
      target: "≤ 1 ms",
      measured: `${r.addedP50Ms} ms (direct ${r.direct.p50Ms} ms, proxy ${r.proxy.p50Ms} ms)`,
      pass: r.addedP50Ms <= 1,
    });
    const ratio = (c: Comparison) =>
      `${Math.round(c.throughputRatio * 100)}% (${c.proxy.requestsPerSecond} vs ${c.direct.requestsPerSecond} req/s)`;
    targets.push({
      name: "proxy throughput vs direct, service on its own core",
      target: "≥ 70%",
      measured: r.ownCore ? ratio(r.ownCore) : "not measured: needs taskset and 2 cores",
      pass: r.ownCore !== null && r.ownCore.throughputRatio >= 0.7,
    });
    targets.push({
      name: "proxy throughput vs direct, all on shared cores",
      target: "(reported)",
      measured: ratio(r),
      pass: true,
      info: true,
    });
    targets.push({
      name: "proxy added latency (p50, 1 connection)",
      target: "(reported)",
      measured: `${r.unloaded.addedP50Ms} ms (direct ${r.unloaded.directP50Ms} ms, proxy ${r.unloaded.proxyP50Ms} ms)`,
      pass: true,
      info: true,
    });
    const cpu = (side: typeof r.direct) =>
      `generator ${side.cpu.generatorUsPerRequest} + emulator ${side.cpu.emulatorUsPerRequest} + service ${side.cpu.serviceUsPerRequest} µs/req, ${side.cpu.coresBusy} cores busy`;
    targets.push({
      name: "CPU per request, direct",
      target: "(reported)",
      measured: cpu(r.direct),
      pass: true,
      info: true,
    });
    targets.push({
      name: "CPU per request, proxy",
      target: "(reported)",
      measured: cpu(r.proxy),
      pass: true,
      info: true,
    });
  },
);

await section(
  "hotPath",
  () => benchHotPath(),
  (rows) => {
    for (const row of rows) {
      targets.push({
        name: `getAccessToken hot path (${row.store})`,
        target: "≥ 200,000 ops/s",
        measured: `${row.opsPerSecond.toLocaleString("en-US")} ops/s`,
        pass: row.opsPerSecond >= 200_000,
      });
    }
  },
);

await section(
  "refreshStorm",
  () => benchStorm(),
  (rows) => {
    for (const row of rows) {
      targets.push({
        name: `refresh storm ${row.processes} proc × ${row.callersPerProcess} callers`,
        target: "1 upstream refresh, 0 errors",
        measured: `${row.upstreamRefreshes} refresh, ${row.invalidGrants} invalid_grant, ${row.errors} errors, p99 wait ${row.p99WaitMs} ms`,
        pass:
          row.upstreamRefreshes === 1 &&
          row.invalidGrants === 0 &&
          row.errors === 0 &&
          row.distinctTokens === 1,
      });
    }
  },
);

await section(
  "scale",
  () =>
    benchScale({
      ...(flags.size ? { count: flags.size } : {}),
      ...(flags.due ? { due: flags.due } : {}),
    }),
  (r) => {
    const rows = r.connections.toLocaleString("en-US");
    targets.push({
      name: `due-connection scan (${rows} rows, limit ${r.scan.limit})`,
      target: "≤ 50 ms, uses the index",
      measured: `median ${r.scan.msMedian} ms, p99 ${r.scan.msP99} ms, index ${r.scan.usesIndex ? "yes" : "NO"}`,
      pass: r.scan.msP99 <= 50 && r.scan.usesIndex,
    });
    const k = r.keepAlive;
    targets.push({
      name: `keep-alive refreshes, one instance, ${rows} rows`,
      target: "(reported)",
      measured: `${k.refreshesPerSecond}/s (${k.refreshed}/${k.due} in ${k.seconds} s, ${k.failed} failed): ${k.refreshesPerDay.toLocaleString("en-US")}/day, ${k.connectionsPer7DayCycle.toLocaleString("en-US")} connections per 7-day cycle`,
      pass: true,
      info: true,
    });
    targets.push({
      name: "service RSS while refreshing and connecting",
      target: "(reported: flat)",
      measured: `start ${r.rssMiB.afterStart}, min ${r.rssMiB.min}, max ${r.rssMiB.max}, end ${r.rssMiB.end} MiB (${r.rssMiB.samples} samples)`,
      pass: true,
      info: true,
    });
    const f = r.connectFlow;
    targets.push({
      name: `connect flows (${f.workers} at a time)`,
      target: "(reported)",
      measured: `${f.perSecond}/s created and completed (${f.completed} in ${f.seconds} s, ${f.errors} errors)`,
      pass: true,
      info: true,
    });
  },
);

/** The side-by-side targets: judged on the static upstream (the proxy's own cost), both reported. */
function checkCompare(rows: CompareRow[]): void {
  const find = (upstream: string, proxy: string) =>
    rows.find((r) => r.upstream === upstream && r.proxy === proxy);
  for (const upstream of ["static", "emulator"] as const) {
    const airlock = find(upstream, "airlock");
    const nginx = find(upstream, "nginx");
    const handrolled = find(upstream, "express+axios");
    const apiKey = find(upstream, "airlock (API key)");
    if (!airlock || !nginx || !handrolled || !apiKey) continue;
    const judged = upstream === "static";
    const info = judged ? {} : { info: true };
    targets.push({
      name: `airlock throughput vs nginx (${upstream} upstream)`,
      target: judged ? "≥ 50%" : "(reported)",
      measured: `${Math.round((airlock.requestsPerSecond / nginx.requestsPerSecond) * 100)}% (${airlock.requestsPerSecond} vs ${nginx.requestsPerSecond} req/s)`,
      pass: !judged || airlock.requestsPerSecond >= 0.5 * nginx.requestsPerSecond,
      ...info,
    });
    targets.push({
      name: `airlock throughput vs express+axios (${upstream} upstream)`,
      target: judged ? "≥ 3×" : "(reported)",
      measured: `${(airlock.requestsPerSecond / handrolled.requestsPerSecond).toFixed(1)}× (${handrolled.requestsPerSecond} req/s)`,
      pass: !judged || airlock.requestsPerSecond >= 3 * handrolled.requestsPerSecond,
      ...info,
    });
    targets.push({
      name: `airlock added p50, 1 connection (${upstream} upstream)`,
      target: judged ? "≤ 0.5 ms" : "(reported)",
      measured: `${airlock.unloadedAddedP50Ms} ms (nginx ${nginx.unloadedAddedP50Ms}, express+axios ${handrolled.unloadedAddedP50Ms}, API key ${apiKey.unloadedAddedP50Ms}); at 16 connections ${airlock.addedP50Ms} ms`,
      pass: !judged || airlock.unloadedAddedP50Ms <= 0.5,
      ...info,
    });
    targets.push({
      name: `CPU per request (${upstream} upstream)`,
      target: "(reported)",
      measured: `nginx ${nginx.proxyCpuUsPerRequest} µs, airlock ${airlock.proxyCpuUsPerRequest} µs (${airlock.vsNginx?.cpuPerRequest}×), API key ${apiKey.proxyCpuUsPerRequest} µs, express+axios ${handrolled.proxyCpuUsPerRequest} µs (${handrolled.vsNginx?.cpuPerRequest}×)`,
      pass: true,
      info: true,
    });
  }
}

results.targets = targets;
results.errors = errors;
results.finishedAt = new Date().toISOString();
const file = join(ROOT, "bench/results.json");
writeFileSync(file, `${JSON.stringify(only.size > 0 ? mergedWithEarlier(file) : results, null, 2)}\n`);

/**
 * A run of some sections updates those in an existing results.json and keeps the others (each
 * section records when it ran), so the file can hold one full run plus later re-runs of parts.
 */
function mergedWithEarlier(path: string): Record<string, unknown> {
  if (!existsSync(path)) return results;
  const earlier = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  const ran = new Set(only);
  const kept = ((earlier.targets as Target[] | undefined) ?? []).filter(
    (t) => !t.section || !ran.has(t.section),
  );
  const earlierErrors = Object.fromEntries(
    Object.entries((earlier.errors as Record<string, string> | undefined) ?? {}).filter(
      ([name]) => !ran.has(name),
    ),
  );
  const sectionRuns = { ...((earlier.sectionRuns as Record<string, string> | undefined) ?? {}) };
  for (const name of ran) sectionRuns[name] = results.finishedAt as string;
  return {
    ...earlier,
    ...results,
    targets: [...kept, ...targets],
    errors: { ...earlierErrors, ...errors },
    sectionRuns,
  };
}

const table = [
  ["result", "benchmark", "target", "measured"],
  ...targets.map((t) => [t.info ? "INFO" : t.pass ? "PASS" : "FAIL", t.name, t.target, t.measured]),
  ...Object.entries(errors).map(([name, message]) => ["ERROR", name, "-", message.split("\n")[0] ?? ""]),
];
const widths = table[0]!.map((_, col) => Math.max(...table.map((row) => row[col]!.length)));
const line = (row: string[]) => row.map((cell, col) => cell.padEnd(widths[col]!)).join("  ");
process.stdout.write(`\n${line(table[0]!)}\n${widths.map((w) => "-".repeat(w)).join("  ")}\n`);
for (const row of table.slice(1)) process.stdout.write(`${line(row)}\n`);
const proxy = results.proxy as { direct?: { p99Ms: number }; proxy?: { p99Ms: number } } | undefined;
if (proxy?.direct && proxy.proxy) {
  process.stdout.write(`\nproxy p99: direct ${proxy.direct.p99Ms} ms, proxy ${proxy.proxy.p99Ms} ms\n`);
}
process.stdout.write(`\nwrote ${file}\n`);
process.exit(0);

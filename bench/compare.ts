/**
 * The proxy side by side with what users would pick instead, in one run, with one load generator
 * (wrk): direct to the upstream; nginx injecting a static Authorization header (keep-alive
 * upstream: the floor for a header-injecting proxy); a tutorial-style Express + axios proxy reading
 * the token from SQLite per request (bench/handrolled-proxy.mjs); Airlock's proxy, once with
 * AIRLOCK_SECRET_KEY and once with a named API key (one indexed store read per request).
 *
 * Two upstreams: the emulator (zero latency) and a static nginx `return 200`, which isolates the
 * proxy's own cost. Pinning on a 2-core machine: wrk and the upstream share core 0, the proxy under
 * test has core 1 to itself, and the proxies are measured one at a time (the idle ones wait on
 * core 0). For each: requests/s and p50/p99 at 16 connections, p50 at 1 connection (no queueing:
 * the latency a single request pays), and the proxy's CPU time per request; all as ratios to nginx.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { freePort, ROOT, waitFor } from "../test/multiprocess/harness.js";
import { type Service, startService, stopChild } from "./env.js";
import { startHeaderProxy, startStaticUpstream } from "./nginx.js";
import { cpuSeconds, pin, processTree, requireTools, runWrk, type WrkResult } from "./wrk.js";

export interface CompareRow {
  upstream: "emulator" | "static";
  proxy: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** p50 with one connection. */
  unloadedP50Ms: number;
  /** Over direct, at 16 connections and at 1. */
  addedP50Ms: number;
  addedP99Ms: number;
  unloadedAddedP50Ms: number;
  /** CPU time of the proxy process(es) per request, µs (null for direct). */
  proxyCpuUsPerRequest: number | null;
  non2xx: number;
  socketErrors: number;
  /** Ratios to nginx on the same upstream (null for direct and for nginx itself). */
  vsNginx: { throughput: number; cpuPerRequest: number | null; addedP50: number | null } | null;
}

export interface CompareResult {
  connections: number;
  seconds: number;
  pinning: string;
  rows: CompareRow[];
}

interface Target {
  proxy: string;
  url: string;
  headers: Record<string, string>;
  /** The processes to pin to core 1 and to charge CPU to (empty: direct). */
  pids: () => number[];
}

const IDENTIFIER = "bench_user";
const WHOAMI = "/v0/meta/whoami";
const PINNING =
  "wrk (1 thread) and the upstream on core 0; the proxy under test alone on core 1; one proxy at a time";

/**
 * @example
 * const result = await benchCompare({ seconds: 5 }); // result.rows: one per upstream × proxy
 */
export async function benchCompare(
  options: { seconds?: number; connections?: number } = {},
): Promise<CompareResult> {
  requireTools({ nginx: "nginx", wrk: "wrk", taskset: "util-linux" });
  if (availableParallelism() < 2)
    throw new Error("needs at least 2 cores (load generator and proxy pinned apart)");
  const seconds = options.seconds ?? 5;
  const connections = options.connections ?? 16;
  const dir = mkdtempSync(join(tmpdir(), "airlock-bench-compare-"));
  const stops: Array<() => Promise<void>> = [];
  // This process is pinned to core 0 with the rest while a proxy is measured: undone at the end,
  // or the sections after this one would run on one core.
  const allCores = `0-${availableParallelism() - 1}`;
  try {
    const setups = await startEverything(dir, stops);
    const rows: CompareRow[] = [];
    for (const setup of setups) {
      pin(setup.background(), "0");
      const measured = setup.targets.map((target) => measure(target, connections, seconds));
      rows.push(...toRows(setup.upstream, measured));
    }
    return { connections, seconds, pinning: PINNING, rows };
  } finally {
    pin([process.pid], allCores);
    for (const stop of stops.reverse()) await stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Setup {
  upstream: CompareRow["upstream"];
  targets: Target[];
  /** Every process of the setup (all go to core 0 while another one is measured). */
  background: () => number[];
}

async function startEverything(dir: string, stops: Array<() => Promise<void>>): Promise<Setup[]> {
  const staticUpstream = await startStaticUpstream(join(dir, "static"));
  stops.push(() => staticUpstream.stop());
  const viaEmulator = await startService({
    databaseUrl: join(dir, "emu.db"),
    identifier: IDENTIFIER,
    latencyMs: 0,
  });
  stops.push(() => viaEmulator.stop());
  const viaStatic = await startService({
    databaseUrl: join(dir, "static.db"),
    identifier: IDENTIFIER,
    latencyMs: 0,
    env: { AIRTABLE_API_URL: staticUpstream.url },
  });
  stops.push(() => viaStatic.stop());
  const token = await accessToken(viaEmulator);
  const tokensDb = join(dir, "handrolled.db");
  const db = new Database(tokensDb);
  db.exec("CREATE TABLE tokens (identifier TEXT PRIMARY KEY, access_token TEXT NOT NULL)");
  db.prepare("INSERT INTO tokens VALUES (?, ?)").run(IDENTIFIER, token);
  db.close();
  const setups: Setup[] = [];
  for (const [upstream, service, origin] of [
    ["emulator", viaEmulator, viaEmulator.emulator.url],
    ["static", viaStatic, staticUpstream.url],
  ] as const) {
    const nginx = await startHeaderProxy(join(dir, `nginx-${upstream}`), origin, IDENTIFIER, token);
    stops.push(() => nginx.stop());
    const handrolled = await startHandrolled(origin, tokensDb, service.secretKey);
    stops.push(handrolled.stop);
    const apiKey = await createApiKey(service);
    const proxyPath = `/v1/proxy/${IDENTIFIER}${WHOAMI}`;
    const nginxPids = () => processTree(nginx.pid);
    const secret = { authorization: `Bearer ${service.secretKey}` };
    const targets: Target[] = [
      {
        proxy: "direct",
        url: `${origin}${WHOAMI}`,
        headers: { authorization: `Bearer ${token}` },
        pids: () => [],
      },
      { proxy: "nginx", url: `${nginx.url}${proxyPath}`, headers: secret, pids: nginxPids },
      {
        proxy: "express+axios",
        url: `${handrolled.url}${proxyPath}`,
        headers: secret,
        pids: () => [handrolled.pid],
      },
      {
        proxy: "airlock",
        url: `${service.url}${proxyPath}`,
        headers: secret,
        pids: () => [service.child.pid],
      },
      {
        proxy: "airlock (API key)",
        url: `${service.url}${proxyPath}`,
        headers: { authorization: `Bearer ${apiKey}` },
        pids: () => [service.child.pid],
      },
    ];
    const upstreamPids = (): number[] =>
      upstream === "static" ? processTree(staticUpstream.pid) : [viaEmulator.emulator.child.pid];
    setups.push({
      upstream,
      targets,
      background: () => [...upstreamPids(), ...nginxPids(), handrolled.pid, service.child.pid, process.pid],
    });
  }
  return setups;
}

interface Measured {
  target: Target;
  loaded: WrkResult;
  unloaded: WrkResult;
  cpuUsPerRequest: number | null;
}

/** Warm-up, then 16 connections (throughput, CPU) and 1 connection (latency), the target on core 1. */
function measure(target: Target, connections: number, seconds: number): Measured {
  const pids = target.pids();
  if (pids.length > 0) pin(pids, "1");
  try {
    process.stderr.write(`bench: compare ${target.url} (${target.proxy})\n`);
    runWrk({ url: target.url, headers: target.headers, connections, seconds: 1, core: "0" });
    const before = cpuSeconds(pids);
    const loaded = runWrk({ url: target.url, headers: target.headers, connections, seconds, core: "0" });
    const cpu = cpuSeconds(pids) - before;
    const unloaded = runWrk({
      url: target.url,
      headers: target.headers,
      connections: 1,
      seconds: Math.max(2, Math.round(seconds / 2)),
      core: "0",
    });
    const cpuUsPerRequest = pids.length > 0 ? round((cpu / loaded.requests) * 1e6) : null;
    return { target, loaded, unloaded, cpuUsPerRequest };
  } finally {
    if (pids.length > 0) pin(pids, "0");
  }
}

function toRows(upstream: CompareRow["upstream"], measured: Measured[]): CompareRow[] {
  const direct = measured.find((m) => m.target.proxy === "direct")!;
  const nginx = measured.find((m) => m.target.proxy === "nginx")!;
  const added = (m: Measured) => round(m.unloaded.p50Ms - direct.unloaded.p50Ms);
  return measured.map((m) => ({
    upstream,
    proxy: m.target.proxy,
    requestsPerSecond: m.loaded.requestsPerSecond,
    p50Ms: round(m.loaded.p50Ms),
    p99Ms: round(m.loaded.p99Ms),
    unloadedP50Ms: round(m.unloaded.p50Ms),
    addedP50Ms: round(m.loaded.p50Ms - direct.loaded.p50Ms),
    addedP99Ms: round(m.loaded.p99Ms - direct.loaded.p99Ms),
    unloadedAddedP50Ms: added(m),
    proxyCpuUsPerRequest: m.cpuUsPerRequest,
    non2xx: m.loaded.non2xx + m.unloaded.non2xx,
    socketErrors: m.loaded.socketErrors + m.unloaded.socketErrors,
    vsNginx:
      m === direct || m === nginx
        ? null
        : {
            throughput: round(m.loaded.requestsPerSecond / nginx.loaded.requestsPerSecond),
            cpuPerRequest:
              m.cpuUsPerRequest !== null && nginx.cpuUsPerRequest
                ? round(m.cpuUsPerRequest / nginx.cpuUsPerRequest)
                : null,
            addedP50: added(nginx) > 0 ? round(added(m) / added(nginx)) : null,
          },
  }));
}

async function accessToken(service: Service): Promise<string> {
  const response = await fetch(`${service.url}/v1/connections/${IDENTIFIER}/access-token`, {
    method: "POST",
    headers: { authorization: `Bearer ${service.secretKey}` },
  });
  if (!response.ok) throw new Error(`access-token: HTTP ${response.status}`);
  return ((await response.json()) as { access_token: string }).access_token;
}

async function createApiKey(service: Service): Promise<string> {
  const response = await fetch(`${service.url}/v1/api-keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${service.secretKey}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "bench", scope: "proxy" }),
  });
  if (!response.ok) throw new Error(`api-keys: HTTP ${response.status} ${await response.text()}`);
  return ((await response.json()) as { key: string }).key;
}

async function startHandrolled(
  upstream: string,
  db: string,
  secret: string,
): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, "bench/handrolled-proxy.mjs")], {
    env: { PATH: process.env.PATH ?? "", PORT: String(port), UPSTREAM: upstream, DB: db, SECRET: secret },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/healthz`).catch(() => null)) !== null, {
    timeoutMs: 10_000,
    message: "the hand-rolled proxy did not start",
  });
  return {
    url,
    pid: child.pid!,
    stop: () => stopChild(child),
  };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

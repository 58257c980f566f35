/**
 * `airlock token` wall time when no refresh is due, against `node -e 0` (the floor for any Node
 * CLI), with hyperfine. A real login against the emulator first (auto-approved), so the timed
 * command reads a real credentials file and prints the stored token without calling Airtable.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmulator } from "../src/emulator/index.js";
import { CLI, freePort, waitFor } from "../test/multiprocess/harness.js";
import { requireTools } from "./wrk.js";

export interface CliResult {
  floorMs: number;
  floorStddevMs: number;
  tokenMs: number;
  tokenStddevMs: number;
  ratio: number;
  /** User + system CPU per run, the same ratio on CPU time (steadier than wall time on a busy box). */
  floorCpuMs: number;
  tokenCpuMs: number;
  cpuRatio: number;
  runs: number;
  command: string;
}

/**
 * @example
 * const { ratio } = await benchCli(); // ≤ 1.5 is the target
 */
export async function benchCli(options: { runs?: number } = {}): Promise<CliResult> {
  requireTools({ hyperfine: "hyperfine" });
  const runs = options.runs ?? 40;
  const home = mkdtempSync(join(tmpdir(), "airlock-bench-cli-"));
  const port = await freePort();
  const redirectUri = `http://localhost:${port}/callback`;
  const emulator = await startEmulator({
    clientId: "bench-cli",
    redirectUris: [redirectUri],
    autoApprove: true,
  });
  const env = {
    PATH: process.env.PATH ?? "",
    HOME: home,
    AIRLOCK_HOME: home,
    AIRTABLE_CLIENT_ID: "bench-cli",
    AIRTABLE_REDIRECT_URI: redirectUri,
    AIRTABLE_OAUTH_URL: emulator.url,
    AIRTABLE_API_URL: emulator.url,
  };
  try {
    await login(env);
    const check = spawnSync(process.execPath, [CLI, "token"], { env, encoding: "utf8" });
    if (check.status !== 0 || !check.stdout.trim()) throw new Error(`airlock token failed: ${check.stderr}`);
    const json = join(home, "hyperfine.json");
    const token = `${process.execPath} ${CLI} token`;
    const floor = `${process.execPath} -e 0`;
    const run = spawnSync(
      "hyperfine",
      ["-N", "--warmup", "5", "--runs", String(runs), "--export-json", json, floor, token],
      { env, encoding: "utf8" },
    );
    if (run.status !== 0) throw new Error(`hyperfine failed: ${run.stderr}`);
    type Run = { mean: number; stddev: number; user: number; system: number };
    const [a, b] = (JSON.parse(readFileSync(json, "utf8")) as { results: Run[] }).results;
    const ms = (s: number) => Math.round(s * 1000 * 100) / 100;
    return {
      floorMs: ms(a!.mean),
      floorStddevMs: ms(a!.stddev),
      tokenMs: ms(b!.mean),
      tokenStddevMs: ms(b!.stddev),
      ratio: Math.round((b!.mean / a!.mean) * 100) / 100,
      floorCpuMs: ms(a!.user + a!.system),
      tokenCpuMs: ms(b!.user + b!.system),
      cpuRatio: Math.round(((b!.user + b!.system) / (a!.user + a!.system)) * 100) / 100,
      runs,
      command: `hyperfine -N --warmup 5 --runs ${runs} 'node -e 0' 'node dist/cli/main.js token'`,
    };
  } finally {
    await emulator.close();
    rmSync(home, { recursive: true, force: true });
  }
}

/** `airlock login --no-browser`, with the authorize URL it prints followed like a browser would. */
async function login(env: Record<string, string>): Promise<void> {
  const child = spawn(process.execPath, [CLI, "login", "--no-browser"], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const authorize = await waitFor(() => /(http:\/\/\S+\/oauth2\/v1\/authorize\?\S+)/.exec(stderr)?.[1], {
    timeoutMs: 15_000,
    message: "airlock login printed no authorize URL",
  });
  const consent = await fetch(authorize, { redirect: "manual" });
  const callback = consent.headers.get("location");
  if (consent.status !== 302 || !callback)
    throw new Error(`emulator answered ${consent.status} to authorize`);
  await (await fetch(callback)).text();
  const code = await exited;
  if (code !== 0) throw new Error(`airlock login exited ${code}: ${stderr}`);
}

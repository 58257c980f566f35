/**
 * `airlock serve` in a real terminal (a pseudo-terminal from util-linux `script`, or python3's pty
 * module): the demo banner and key stay readable because log lines are human-readable there
 * (pino-pretty), and `AIRLOCK_LOG_FORMAT=json` still gives JSON lines on a terminal. Piped stderr
 * gives JSON (test/service-cli.test.ts).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { announceSkip } from "./support/skip.js";

const MAIN = join(import.meta.dirname, "..", "dist", "cli", "main.js");
const dir = mkdtempSync(join(tmpdir(), "airlock-tty-"));
const ESC = String.fromCharCode(27);
const ANSI = new RegExp(`${ESC}\\[[0-9;]*[A-Za-z]`, "g");

type Pty = { command: string; args: (line: string) => string[] };

function findPty(): Pty | undefined {
  if (spawnSync("script", ["--version"], { stdio: "ignore" }).status === 0) {
    return { command: "script", args: (line) => ["-qfec", line, "/dev/null"] };
  }
  if (spawnSync("python3", ["-c", "import pty"], { stdio: "ignore" }).status === 0) {
    return {
      command: "python3",
      args: (line) => ["-c", "import pty, sys; pty.spawn(['/bin/sh', '-c', sys.argv[1]])", line],
    };
  }
  return undefined;
}

const pty = findPty();
announceSkip(
  "pty",
  "airlock serve on a terminal",
  pty ? undefined : "neither `script` (util-linux: apt-get install util-linux) nor python3 is installed",
);

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(AIRTABLE_|AIRLOCK_|PORT$|DATABASE_URL$|NO_COLOR$|FORCE_COLOR$)/.test(k)) env[k] = v;
  }
  return { ...env, TERM: "xterm", ...extra };
}

interface OnTerminal {
  child: ChildProcess;
  /** Everything the terminal showed, escape sequences removed, `\r\n` as `\n`. */
  screen(): string;
  url: string;
  stop(): Promise<void>;
}

async function serveOnTerminal(name: string, env: Record<string, string>): Promise<OnTerminal> {
  if (!pty) throw new Error("no pseudo-terminal tool");
  const cwd = join(dir, name);
  const line = `mkdir -p '${cwd}' && cd '${cwd}' && echo "PID=$$" && exec '${process.execPath}' '${MAIN}' serve --port 0`;
  const child = spawn(pty.command, pty.args(line), {
    env: cleanEnv(env),
    stdio: ["pipe", "pipe", "pipe"],
    detached: true,
  });
  let raw = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    raw += chunk.toString("utf8");
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    raw += chunk.toString("utf8");
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const screen = () => raw.replace(ANSI, "").replace(/\r\n/g, "\n");
  // SIGTERM to airlock itself (the shell's pid, which `exec` handed to node), as a terminal's
  // Ctrl-C would; the pty tool exits with it. Anything left after 10 s is killed.
  const stop = async () => {
    if (child.exitCode !== null) return;
    const pid = Number(/PID=(\d+)/.exec(screen())?.[1]);
    if (pid > 0) process.kill(pid, "SIGTERM");
    const timer = setTimeout(() => child.pid && process.kill(-child.pid, "SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const url = /Dashboard:\s+(http:\/\/\S+?)\/\s/.exec(screen())?.[1];
    if (url) return { child, screen, url, stop };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(`airlock serve did not start on the terminal:\n${screen()}`);
}

async function untilShown(t: OnTerminal, pattern: RegExp): Promise<void> {
  for (let i = 0; i < 200 && !pattern.test(t.screen()); i++) await new Promise((r) => setTimeout(r, 25));
}

describe.skipIf(!pty)("airlock serve on a terminal", () => {
  const running: OnTerminal[] = [];
  afterAll(async () => {
    for (const t of running) await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("prints the banner and human-readable log lines, a request as one short line", async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
    const t = await serveOnTerminal("pretty", {});
    running.push(t);
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    await untilShown(t, /GET \/healthz 200/);
    const lines = t.screen().split("\n");
    expect(lines.some((l) => l.trimStart().startsWith("{"))).toBe(false);
    expect(t.screen()).toMatch(/^\[\d{2}:\d{2}:\d{2}\.\d{3}\] INFO \(airlock\): airlock service started/m);
    expect(t.screen()).toMatch(/INFO \(airlock\): GET \/healthz 200 [\d.]+ ms/);
    // The banner and the key are there, on lines of their own.
    expect(t.screen()).toContain("DEMO MODE");
    expect(t.screen()).toMatch(/^ {2}Secret key: {3}sk_demo_\S+$/m);
    await t.stop();
    expect(t.screen()).toContain("Stopped.");
  });

  it("AIRLOCK_LOG_FORMAT=json keeps JSON lines on a terminal", async () => {
    const t = await serveOnTerminal("json", { AIRLOCK_LOG_FORMAT: "json" });
    running.push(t);
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    await untilShown(t, /"path":"\/healthz"/);
    const json = t
      .screen()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(json.some((e) => e.msg === "airlock service started")).toBe(true);
    expect(json.some((e) => e.path === "/healthz" && e.status === 200)).toBe(true);
    await t.stop();
  });
});

/**
 * What `airlock serve` leaves on disk (real processes, each in an empty folder of its own): a start
 * that fails (busy port, an unwritable journal folder, an unreachable PostgreSQL) creates nothing;
 * a start that succeeds says which database and which key folder it uses, as absolute paths, and
 * whether this start created them.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "./support/ports.js";

const MAIN = join(import.meta.dirname, "..", "dist", "cli", "main.js");
const root = mkdtempSync(join(tmpdir(), "airlock-start-"));

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(AIRTABLE_|AIRLOCK_|PORT$|DATABASE_URL$)/.test(k)) env[k] = v;
  }
  return { ...env, AIRLOCK_LOG_FORMAT: "json", ...extra };
}

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function run(cwd: string, args: string[], env: Record<string, string> = {}): Run {
  const child = spawn(process.execPath, [MAIN, ...args], {
    cwd,
    env: cleanEnv(env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (c: Buffer) => {
    output += c.toString("utf8");
  });
  child.stderr?.on("data", (c: Buffer) => {
    output += c.toString("utf8");
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Runs `airlock serve` to its end (a failed start) and returns the exit code and output. */
async function failedStart(cwd: string, args: string[], env: Record<string, string> = {}) {
  const proc = run(cwd, ["serve", ...args], env);
  const timer = setTimeout(() => proc.child.kill("SIGKILL"), 20_000);
  const code = await proc.exited;
  clearTimeout(timer);
  return { code, output: proc.output() };
}

/** Starts `airlock serve` and waits for its banner. */
async function started(cwd: string, env: Record<string, string> = {}): Promise<Run> {
  const proc = run(cwd, ["serve", "--port", "0"], env);
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (/Secret key:/.test(proc.output())) return proc;
    if (proc.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.child.kill("SIGKILL");
  throw new Error(`airlock serve did not start:\n${proc.output()}`);
}

async function stop(proc: Run): Promise<void> {
  proc.child.kill("SIGTERM");
  await proc.exited;
}

function emptyFolder(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Everything under `dir`, as relative paths. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).sort();
}

describe("a failed `airlock serve` start creates nothing", () => {
  const blockers: Server[] = [];
  afterAll(async () => {
    for (const b of blockers) await new Promise((r) => b.close(r));
    rmSync(root, { recursive: true, force: true });
  });

  it("busy port: fails naming the port, and the folder stays empty", async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
    const port = await freePort();
    const blocker = createServer();
    blockers.push(blocker);
    await new Promise<void>((resolve) => blocker.listen(port, resolve));
    const cwd = emptyFolder("busy-port");

    const { code, output } = await failedStart(cwd, ["--port", String(port)]);

    expect(code).toBeGreaterThan(0);
    expect(output).toContain(`Port ${port} is already in use`);
    expect(tree(cwd)).toEqual([]);
  });

  it("a journal folder it cannot create (found after the port is bound): the new database and keys are removed", async () => {
    const cwd = emptyFolder("bad-journal");
    writeFileSync(join(cwd, "not-a-folder"), "");

    const { code, output } = await failedStart(cwd, ["--port", "0"], {
      DATABASE_URL: "./data/nested/airlock.db",
      AIRLOCK_JOURNAL_DIR: join(cwd, "not-a-folder", "journal"),
    });

    expect(code).toBeGreaterThan(0);
    expect(output).toContain("rotation journal folder");
    expect(tree(cwd)).toEqual(["not-a-folder"]);
  });

  it("an unreachable PostgreSQL: no demo keys in the working directory, no password in the output", async () => {
    const cwd = emptyFolder("no-postgres");
    const closedPort = await freePort();

    const { code, output } = await failedStart(cwd, ["--port", "0"], {
      DATABASE_URL: `postgres://airlock:hunter2-secret@127.0.0.1:${closedPort}/airlock`,
    });

    expect(code).toBeGreaterThan(0);
    expect(output).not.toContain("hunter2-secret");
    expect(tree(cwd)).toEqual([]);
  });

  it("an existing database and keys are never removed by a failed start", async () => {
    const cwd = emptyFolder("kept");
    const first = await started(cwd);
    await stop(first);
    const before = tree(cwd);
    expect(before).toContain("airlock.db");
    expect(before).toContain(join(".airlock", "demo-keys.json"));

    const { code } = await failedStart(cwd, ["--port", "0"], {
      AIRLOCK_JOURNAL_DIR: join(cwd, "airlock.db", "journal"),
    });

    expect(code).toBeGreaterThan(0);
    expect(tree(cwd)).toEqual(before);
  });
});

describe("a successful `airlock serve` start says what it uses", () => {
  it("absolute database path and key folder, and whether this start created them", async () => {
    const cwd = emptyFolder("elsewhere");
    const first = await started(cwd, { DATABASE_URL: "./airlock.db" });
    const text = first.output();
    await stop(first);

    const db = join(cwd, "airlock.db");
    const keys = join(cwd, ".airlock");
    expect(text).toContain(`Database:     sqlite ${db} (created by this start)`);
    expect(text).toContain(`Keys:         ${join(keys, "demo-keys.json")} (created by this start)`);
    expect(text).toContain(`Journal:      ${join(keys, "journal")}`);
    expect(text).toMatch(/new database and new demo keys/);
    const startedLine = text
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((e) => e.msg === "airlock service started");
    expect(startedLine).toMatchObject({
      database: db,
      keys: join(keys, "demo-keys.json"),
      created: ["database", "keys"],
    });

    const second = await started(cwd, { DATABASE_URL: "./airlock.db" });
    const again = second.output();
    await stop(second);
    expect(again).toContain(`Database:     sqlite ${db}\n`);
    expect(again).toContain(`Keys:         ${join(keys, "demo-keys.json")}\n`);
    expect(again).not.toContain("created by this start");
  });

  it("keys from the environment: says so, and creates no key file", async () => {
    const cwd = emptyFolder("env-keys");
    const proc = await started(cwd, {
      AIRLOCK_SECRET_KEY: "sk_env_0123456789abcdef0123456789abcdef",
      AIRLOCK_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 7).toString("base64")}`,
    });
    const text = proc.output();
    await stop(proc);
    expect(text).toContain("Keys:         AIRLOCK_SECRET_KEY and AIRLOCK_ENCRYPTION_KEYS (environment)");
    expect(existsSync(join(cwd, ".airlock", "demo-keys.json"))).toBe(false);
  });
});

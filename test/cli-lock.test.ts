/**
 * The refresh lock across real processes whose clocks disagree (each worker's `Date` is shifted by
 * hours: test/support/faketime.ts `shiftedClockArgs`), and with a holder that is killed mid-section:
 * mutual exclusion must hold, and a dead holder must not block forever. (proper-lockfile fails the
 * first case: it judges staleness by the lock's mtime, real kernel time, against Date.now().)
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { shiftedClockArgs } from "./support/faketime.js";

const LOCK_MODULE = resolve(import.meta.dirname, "../dist/cli/lock.js");

/** A process that takes the lock, logs enter/leave around a pause, and releases it. */
const WORKER = `
const { acquireFileLock } = await import(process.env.LOCK_MODULE);
const { appendFileSync } = await import("node:fs");
const [lock, log, holdMs] = process.argv.slice(1);
const release = await acquireFileLock(lock, { timeoutMs: 30000 });
appendFileSync(log, "enter " + process.pid + "\\n");
process.stdout.write("locked\\n");
await new Promise((r) => setTimeout(r, Number(holdMs)));
appendFileSync(log, "leave " + process.pid + "\\n");
await release();
`;

function worker(lock: string, log: string, holdMs: number, clock?: string) {
  const args = [
    ...(clock ? shiftedClockArgs(clock) : []),
    "--input-type=module",
    "-e",
    WORKER,
    lock,
    log,
    String(holdMs),
  ];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, LOCK_MODULE },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const locked = new Promise<void>((resolveLocked) => child.stdout.once("data", () => resolveLocked()));
  const done = new Promise<number | null>((resolveDone) => child.on("close", (code) => resolveDone(code)));
  return { child, locked, done, stderr: () => stderr };
}

describe("acquireFileLock across processes", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "airlock-xlock-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("excludes each other even when their clocks differ by hours", async () => {
    const lock = join(dir, "credentials-default.json.lock");
    const log = join(dir, "log");
    const clocks = [undefined, "+61m", "-2h", "+59d", undefined, "+61m"];
    const workers = clocks.map((clock) => worker(lock, log, 150, clock));
    const codes = await Promise.all(workers.map((w) => w.done));
    expect(codes, workers.map((w) => w.stderr()).join("\n")).toEqual(clocks.map(() => 0));
    const lines = (await readFile(log, "utf8")).trim().split("\n");
    expect(lines).toHaveLength(clocks.length * 2);
    // Strictly alternating enter/leave of the same pid: no two sections overlapped.
    for (let i = 0; i < lines.length; i += 2) {
      expect(lines[i]).toMatch(/^enter \d+$/);
      expect(lines[i + 1]).toBe(lines[i]!.replace("enter", "leave"));
    }
  });

  it("takes over from a holder that was killed while holding the lock", async () => {
    const lock = join(dir, "credentials-default.json.lock");
    const log = join(dir, "log");
    const victim = worker(lock, log, 60_000);
    await victim.locked;
    victim.child.kill("SIGKILL");
    await victim.done;
    const next = worker(lock, log, 10, "+61m");
    expect(await next.done).toBe(0);
    const lines = (await readFile(log, "utf8")).trim().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^enter/);
  });
});

import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isAirlockError } from "../shared/errors.js";
import { acquireFileLock } from "./lock.js";

describe("acquireFileLock", () => {
  let dir: string;
  let lock: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "airlock-lock-"));
    lock = join(dir, "credentials-default.json.lock");
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes our pid into the lock and removes it on release", async () => {
    const release = await acquireFileLock(lock);
    expect(JSON.parse(await readFile(lock, "utf8")).pid).toBe(process.pid);
    await release();
    await expect(readFile(lock)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("serialises holders in one process: critical sections never overlap", async () => {
    let inside = 0;
    let maxInside = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const release = await acquireFileLock(lock);
        inside += 1;
        maxInside = Math.max(maxInside, inside);
        await new Promise((r) => setTimeout(r, 5));
        order.push(i);
        inside -= 1;
        await release();
      }),
    );
    expect(maxInside).toBe(1);
    expect(order).toHaveLength(6);
  });

  it("breaks a lock whose owner process is dead, whatever the clock says", async () => {
    // A real process that exits at once gives a pid that is certainly dead now.
    const child = spawn(process.execPath, ["-e", ""]);
    const deadPid = await new Promise<number>((resolve) => child.on("exit", () => resolve(child.pid!)));
    await writeFile(lock, JSON.stringify({ pid: deadPid, host: hostname(), nonce: "dead" }));
    const release = await acquireFileLock(lock, { timeoutMs: 5000 });
    expect(JSON.parse(await readFile(lock, "utf8")).pid).toBe(process.pid);
    await release();
  });

  it("waits for a live holder and times out with a message naming the lock file", async () => {
    // pid 1 is alive (init) on this host: the lock must be respected however old it is.
    await writeFile(lock, JSON.stringify({ pid: 1, host: hostname(), nonce: "live" }));
    let told = 0;
    const error = await acquireFileLock(lock, { timeoutMs: 300, onWait: () => (told += 1) }).catch(
      (e: unknown) => e,
    );
    expect(isAirlockError(error, "timeout")).toBe(true);
    expect((error as Error).message).toContain(lock);
    expect(told).toBe(1);
    // The live holder's lock is untouched.
    expect(JSON.parse(await readFile(lock, "utf8")).nonce).toBe("live");
  });

  it("does not delete a lock that another owner took over", async () => {
    const release = await acquireFileLock(lock);
    await writeFile(lock, JSON.stringify({ pid: 1, host: hostname(), nonce: "someone-else" }));
    await release();
    expect(JSON.parse(await readFile(lock, "utf8")).nonce).toBe("someone-else");
  });

  it("stops waiting when aborted", async () => {
    await writeFile(lock, JSON.stringify({ pid: 1, host: hostname(), nonce: "live" }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("ctrl-c")), 50);
    await expect(acquireFileLock(lock, { signal: controller.signal })).rejects.toThrow("ctrl-c");
  });
});

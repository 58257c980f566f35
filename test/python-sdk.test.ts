/**
 * The Python SDK (clients/python/) in `npm test`: its unittest suite, which starts a real
 * `airlock serve` in demo mode (`node dist/cli/main.js`; `npm test` builds it first) and drives it
 * with the SDK, plus the webhook vectors and the client's error handling against a stub.
 *
 * Needs python3 (3.9 or later) on PATH, or AIRLOCK_TEST_PYTHON naming an interpreter (then one that
 * does not run fails the suite). Without one the suite skips with one visible line.
 */
import { spawn, spawnSync } from "node:child_process";
import { accessSync, constants, existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { describe, expect, it } from "vitest";
import { announceSkip } from "./support/skip.js";

const ROOT = join(import.meta.dirname, "..");
const MAIN = join(ROOT, "dist", "cli", "main.js");
const TESTS = join("clients", "python", "tests");
/** The Python suite's own budget; it takes about 10 s. */
const RUN_TIMEOUT_MS = 60_000;

/** A Python 3.9+ interpreter, or why there is none. */
function findPython(): { python: string } | { missing: string } {
  const configured = process.env.AIRLOCK_TEST_PYTHON?.trim();
  if (configured) return { python: configured };
  for (const dir of (process.env.PATH ?? "").split(delimiter).filter(Boolean)) {
    const candidate = join(dir, "python3");
    try {
      accessSync(candidate, constants.X_OK);
    } catch {
      continue; // absent, or not ours to run (e.g. another user's pyenv shims)
    }
    const probe = spawnSync(candidate, ["-c", "import sys; print(sys.version_info >= (3, 9))"], {
      encoding: "utf8",
      timeout: 20_000,
    });
    if (probe.status === 0 && probe.stdout.trim() === "True") return { python: candidate };
  }
  return {
    missing: "no python3 (3.9 or later) on PATH: apt-get install python3, or set AIRLOCK_TEST_PYTHON",
  };
}

interface Run {
  code: number | null;
  output: string;
}

function runUnittest(python: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, ["-m", "unittest", "discover", "-s", TESTS, "-v"], {
      cwd: ROOT,
      env: {
        ...process.env,
        AIRLOCK_NODE: process.execPath,
        AIRLOCK_CLI_MAIN: MAIN,
        PYTHONDONTWRITEBYTECODE: "1",
        PYTHONUNBUFFERED: "1",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    const timer = setTimeout(() => {
      output += `\n[python-sdk] killed after ${RUN_TIMEOUT_MS} ms\n`;
      child.kill("SIGKILL");
    }, RUN_TIMEOUT_MS);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

const found = findPython();
const missing = "missing" in found ? found.missing : undefined;
announceSkip("python", "Python SDK (clients/python)", missing);

describe.skipIf(missing !== undefined)("Python SDK (clients/python)", () => {
  it("passes its unittest suite against a real airlock serve", async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` before this suite`);
    const { code, output } = await runUnittest((found as { python: string }).python);
    if (code !== 0) process.stderr.write(`[python-sdk] python output:\n${output}\n`);
    expect(code, output).toBe(0);
    const ran = Number(/^Ran (\d+) tests? in /m.exec(output)?.[1] ?? 0);
    expect(ran, output).toBeGreaterThanOrEqual(50);
    expect(output, "no Python test may skip").not.toMatch(/skipped=\d+/);
  }, 90_000);
});

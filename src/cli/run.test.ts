import { describe, expect, it } from "vitest";
import type { CommandContext } from "./context.js";
import { memoryOutput } from "./output.js";
import { isDelegatedCommand, runCli } from "./run.js";

function context(env: NodeJS.ProcessEnv = {}) {
  const memory = memoryOutput();
  const ctx: CommandContext = {
    output: memory.output,
    env,
    stdin: process.stdin,
    signal: new AbortController().signal,
  };
  return { ctx, ...memory };
}

describe("runCli", () => {
  it("prints help on stdout with --help and exit 0; on stderr with no command and exit 2", async () => {
    const a = context();
    expect(await runCli(["--help"], a.ctx)).toBe(0);
    expect(a.stdout()).toContain("Exit codes:");
    const b = context();
    expect(await runCli([], b.ctx)).toBe(2);
    expect(b.stderr()).toContain("Usage: airlock");
  });

  it("reports unknown commands as usage errors, including prototype names", async () => {
    for (const name of ["nope", "constructor", "__proto__", "toString"]) {
      const c = context();
      expect(await runCli([name], c.ctx)).toBe(2);
      expect(c.stderr()).toContain(`Unknown command "${name}"`);
    }
  });

  it("prints an error and its hint, and maps the code", async () => {
    const c = context({ AIRLOCK_HOME: "/nonexistent/airlock-test-home" });
    expect(await runCli(["token"], c.ctx)).toBe(3);
    expect(c.stdout()).toBe("");
    expect(c.stderr()).toMatch(/^error: Not logged in .*\n {2}Run `airlock login` first\.\n$/);
  });

  it("knows which commands run the process themselves", () => {
    expect(isDelegatedCommand("serve")).toBe(true);
    expect(isDelegatedCommand("emulator")).toBe(true);
    expect(isDelegatedCommand("rotate-keys")).toBe(true);
    expect(isDelegatedCommand("token")).toBe(false);
    expect(isDelegatedCommand("constructor")).toBe(false);
  });
});

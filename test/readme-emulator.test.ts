/**
 * The README's "Testing your integration with the emulator" example runs as written: the code block
 * is taken from README.md into a user's project (this package, `airtable` and `vitest` installed
 * as symlinks), type-checked, and run with that project's own Vitest against the built package.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "..");
const SECTION = "Testing your integration with the emulator";
const run = promisify(execFile);

/** The first ```ts block of a README section. */
function sectionCode(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README has no "## ${heading}" section`);
  const end = markdown.indexOf("\n## ", start + 1);
  const block = /```ts\n([\s\S]*?)```/.exec(markdown.slice(start, end < 0 ? undefined : end));
  if (!block) throw new Error(`the "${heading}" section has no \`\`\`ts block`);
  return block[1]!;
}

let project: string;
beforeAll(async () => {
  project = await mkdtemp(join(tmpdir(), "airlock-readme-emulator-"));
  await writeFile(join(project, "package.json"), JSON.stringify({ type: "module", private: true }));
  await mkdir(join(project, "node_modules"));
  await symlink(ROOT, join(project, "node_modules", "airlock"), "dir");
  for (const name of ["airtable", "vitest"]) {
    await symlink(join(ROOT, "node_modules", name), join(project, "node_modules", name), "dir");
  }
  const code = sectionCode(await readFile(join(ROOT, "README.md"), "utf8"), SECTION);
  await writeFile(join(project, "contacts.test.ts"), code);
});
afterAll(async () => {
  if (project) await rm(project, { recursive: true, force: true });
});

async function output(command: string, args: string[]): Promise<{ code: number; text: string }> {
  try {
    const { FORCE_COLOR: _color, ...env } = process.env;
    const { stdout, stderr } = await run(command, args, {
      cwd: project,
      env: { ...env, CI: "1", NO_COLOR: "1" },
    });
    return { code: 0, text: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, text: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
  }
}

describe(`README: ${SECTION}`, () => {
  it("type-checks against the built package (strict)", async () => {
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    const result = await output(process.execPath, [
      tsc,
      ...[
        "--noEmit",
        "--strict",
        "--target",
        "es2022",
        "--module",
        "nodenext",
        "--moduleResolution",
        "nodenext",
      ],
      ...["--skipLibCheck", "--types", "node", "--typeRoots", join(ROOT, "node_modules", "@types")],
      "contacts.test.ts",
    ]);
    expect(result.text).toBe("");
  }, 60_000);

  it("passes with the project's own Vitest: the lead is created, found by formula, and an unknown choice refused", async () => {
    const vitest = join(ROOT, "node_modules", "vitest", "vitest.mjs");
    const result = await output(process.execPath, [
      vitest,
      "run",
      "--root",
      project,
      "--reporter",
      "verbose",
    ]);
    expect(result.text).toContain("creates a lead and finds it with a formula");
    expect(result.text).toContain("refuses what Airtable refuses");
    expect(result.code, result.text).toBe(0);
    expect(result.text).toMatch(/Tests\s+2 passed/);
  }, 120_000);
});

/**
 * `scripts/check-structure.mjs` (run by `npm run lint`) fails on each fault it exists to catch: run
 * on a small tree of its own, with one fault at a time.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";

const SCRIPT = resolve(import.meta.dirname, "../scripts/check-structure.mjs");
const run = promisify(execFile);
const trees: string[] = [];

afterEach(() => {
  for (const dir of trees.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A project with the given files; node_modules points at ours so the script finds typescript. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "airlock-structure-"));
  trees.push(dir);
  symlinkSync(resolve(import.meta.dirname, "../node_modules"), join(dir, "node_modules"));
  mkdirSync(join(dir, "packages/client/src"), { recursive: true });
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

async function check(dir: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [SCRIPT], { cwd: dir });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

const sound = {
  "src/shared/log.ts": "export const log = 1;\n",
  "src/airtable/api.ts": 'import { log } from "../shared/log.js";\nexport const api = log;\n',
};

describe("check-structure", () => {
  it("passes a tree whose layers import downwards", async () => {
    const result = await check(tree(sound));
    expect(result.code).toBe(0);
    expect(result.output).toContain("no import cycles");
  });

  it("names an upward import", async () => {
    const dir = tree({
      ...sound,
      "src/shared/up.ts": 'import { api } from "../airtable/api.js";\nexport const up = api;\n',
    });
    const result = await check(dir);
    expect(result.code).toBe(1);
    expect(result.output).toContain("src/shared may not import src/airtable");
  });

  it("names a cycle between files", async () => {
    const dir = tree({
      ...sound,
      "src/airtable/a.ts": 'import { b } from "./b.js";\nexport const a = () => b;\n',
      "src/airtable/b.ts": 'import { a } from "./a.js";\nexport const b = () => a;\n',
    });
    const result = await check(dir);
    expect(result.code).toBe(1);
    expect(result.output).toMatch(
      /import cycle: src\/airtable\/a\.ts -> src\/airtable\/b\.ts -> src\/airtable\/a\.ts/,
    );
  });

  it("names a function over 80 lines", async () => {
    const body = Array.from({ length: 85 }, (_, i) => `  const v${i} = ${i};`).join("\n");
    const dir = tree({ ...sound, "src/airtable/long.ts": `export function long() {\n${body}\n}\n` });
    const result = await check(dir);
    expect(result.code).toBe(1);
    expect(result.output).toContain("long is 87 lines (at most 80)");
  });
});

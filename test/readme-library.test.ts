/**
 * The README's "Library" example runs as written: the code block is taken from README.md, type-checked
 * against the built package, and run as a user's script (`import … from "airlock"` through an
 * installed copy of this package) against the real emulator. Only the AIRTABLE_* variables it
 * documents are set: no AIRTABLE_SCOPES (the default applies), and AIRTABLE_API_URL pointing at the
 * emulator, so a call to api.airtable.com would fail the test.
 */
import { execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { approveAutomatically, emulatorStats, type Setup, setup } from "./support/cli.js";

const ROOT = resolve(import.meta.dirname, "..");
const run = promisify(execFile);

/**
 * The first ```ts block of a README section.
 *
 * @example
 * sectionCode(readme, "Library");
 */
function sectionCode(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README has no "## ${heading}" section`);
  const end = markdown.indexOf("\n## ", start + 1);
  const section = markdown.slice(start, end < 0 ? undefined : end);
  const block = /```ts\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error(`the "${heading}" section has no \`\`\`ts block`);
  return block[1]!;
}

let s: Setup;
let project: string;
let script: string;
beforeAll(async () => {
  s = await setup();
  // A user's project with this package installed (a symlink, as `npm link` makes it).
  project = await mkdtemp(join(tmpdir(), "airlock-readme-"));
  await writeFile(join(project, "package.json"), JSON.stringify({ type: "module", private: true }));
  await mkdir(join(project, "node_modules"));
  await symlink(ROOT, join(project, "node_modules", "airlock"), "dir");
  script = join(project, "example.ts");
  await writeFile(script, sectionCode(await readFile(join(ROOT, "README.md"), "utf8"), "Library"));
});
afterAll(async () => {
  await s?.cleanup();
  if (project) await rm(project, { recursive: true, force: true });
});

describe("README: Library", () => {
  it("type-checks against the built package (strict)", async () => {
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    const args = [
      tsc,
      "--noEmit",
      "--strict",
      "--target",
      "es2022",
      "--module",
      "nodenext",
      "--moduleResolution",
      "nodenext",
      "--skipLibCheck",
      "--types",
      "node",
      "--typeRoots",
      join(ROOT, "node_modules", "@types"),
      script,
    ];
    const result = await run(process.execPath, args, { cwd: project }).catch(
      (error: { stdout?: string; stderr?: string }) => error,
    );
    expect("stdout" in result ? `${result.stdout ?? ""}${result.stderr ?? ""}` : "").toBe("");
  }, 60_000);

  it("runs as written against the emulator: authorize, callback, exchange, whoami, bases", async () => {
    const { AIRTABLE_SCOPES: _unset, ...env } = s.env;
    const before = await emulatorStats(s.emulator);
    // The example is the user's own program, run with tsx as they would run it.
    const example = spawn(process.execPath, [join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"), script], {
      cwd: project,
      env,
      stdio: "pipe",
    });
    let stdout = "";
    let stderr = "";
    example.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    example.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const exited = new Promise<number | null>((done) => example.on("close", done));
    const authorizeUrl = await new Promise<URL>((found, fail) => {
      const timer = setInterval(() => {
        const match = /(http:\/\/\S+\/oauth2\/v1\/authorize\?\S+)/.exec(stdout);
        if (match) {
          clearInterval(timer);
          found(new URL(match[1]!));
        }
      }, 50);
      void exited.then((code) => {
        clearInterval(timer);
        fail(new Error(`the example exited (${code}) before printing an authorize URL:\n${stdout}${stderr}`));
      });
    });
    // The defaults the README promises: the CLI's scopes when AIRTABLE_SCOPES is unset.
    expect(authorizeUrl.searchParams.get("scope")).toBe(
      "data.records:read schema.bases:read user.email:read",
    );
    expect(authorizeUrl.searchParams.get("redirect_uri")).toBe(s.redirectUri);
    // The browser approves and lands on the redirect URI, where the example listens.
    const callback = await approveAutomatically(authorizeUrl);
    const page = await fetch(callback);
    expect(page.status).toBe(200);
    await page.text();
    expect(await exited, `${stdout}${stderr}`).toBe(0);
    expect(stdout).toContain("ada.lovelace@example.com");
    expect(stdout).toMatch(/app[A-Za-z0-9]{14}/);
    const after = await emulatorStats(s.emulator);
    expect(after.code_exchanges).toBe(before.code_exchanges! + 1);
    // whoami and the bases came from AIRTABLE_API_URL (the emulator), not api.airtable.com.
    expect(after.api_requests).toBeGreaterThanOrEqual(before.api_requests! + 2);
  }, 60_000);
});

#!/usr/bin/env node
// Proves that `npm pack` makes a package people can use, the way they would use it:
//   1. packs the repository (its `prepack` builds dist/ afresh; workspaces are packed too, since
//      the registry does not have them yet),
//   2. checks every source map in the tarball carries its sources (no map points at a file the
//      package does not ship),
//   3. installs the tarball into an empty project (`npm install ./airlock-<version>.tgz`, the
//      dependencies from the registry),
//   4. runs `npx airlock --help` there, and imports `airlock`, `airlock/client` and
//      `airlock/emulator` there, opening a SQLite store (the native better-sqlite3 was built) and
//      starting an emulator (the HTTP stack loads).
//
//   node scripts/check-pack.mjs [REPO_DIR] [--keep]     (REPO_DIR defaults to this checkout; run
//                                                        `npm ci` there first: the build needs tsc)
import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
const keep = args.includes("--keep");
const repo = resolve(
  args.find((arg) => !arg.startsWith("--")) ?? join(dirname(fileURLToPath(import.meta.url)), ".."),
);
const work = mkdtempSync(join(tmpdir(), "airlock-pack-"));

function say(line) {
  process.stdout.write(`check-pack: ${line}\n`);
}

function run(command, commandArgs, cwd, shown = commandArgs.join(" ")) {
  say(`$ ${command} ${shown}   (in ${cwd})`);
  return execFileSync(command, commandArgs, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
}

/** Every file under `dir`, as paths relative to it. */
function filesUnder(dir, prefix = "") {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const path = join(prefix, entry.name);
    return entry.isDirectory() ? filesUnder(dir, path) : [path];
  });
}

/** Source maps in an unpacked package whose sources are neither embedded nor shipped. */
function danglingMaps(packageDir) {
  const problems = [];
  for (const file of filesUnder(packageDir).filter((f) => f.endsWith(".map"))) {
    const map = JSON.parse(readFileSync(join(packageDir, file), "utf8"));
    const base = resolve(dirname(join(packageDir, file)), map.sourceRoot ?? "");
    (map.sources ?? []).forEach((source, index) => {
      const embedded = typeof map.sourcesContent?.[index] === "string";
      if (!embedded && !existsSync(resolve(base, source))) problems.push(`${file} → ${source}`);
    });
  }
  return problems;
}

// What the modules must export, and a real use of the emulator (hono, the node server, zod...).
const IMPORTS = `
const airlock = await import("airlock");
const client = await import("airlock/client");
const emulator = await import("airlock/emulator");
const expect = (ok, what) => { if (!ok) throw new Error("missing: " + what); };
expect(typeof airlock.AirtableOAuth === "function", "airlock: AirtableOAuth");
expect(typeof airlock.openStore === "function", "airlock: openStore");
expect(typeof client.AirlockClient === "function", "airlock/client: AirlockClient");
expect(typeof emulator.startEmulator === "function", "airlock/emulator: startEmulator");
const keyring = airlock.parseEncryptionKeys(airlock.generateKeyringValue());
const store = await airlock.openStore(process.argv[1], { keyring }); // better-sqlite3 was built
expect(Array.isArray((await store.listConnections({ limit: 1 })).items), "a SQLite store");
await store.close();
const running = await emulator.startEmulator({ port: 0 });
const stats = await (await fetch(running.url + "/__emulator/stats")).json();
expect(typeof stats.refreshes === "number", "emulator stats");
await running.close();
console.log("imports ok: airlock (" + Object.keys(airlock).length + " exports), airlock/client (" +
  Object.keys(client).length + "), airlock/emulator (" + Object.keys(emulator).length + ")");
`;

function main() {
  const manifest = JSON.parse(readFileSync(join(repo, "package.json"), "utf8"));
  const packDir = join(work, "tarballs");
  mkdirSync(packDir);
  const workspaces = Array.isArray(manifest.workspaces) && manifest.workspaces.length > 0;
  run(
    "npm",
    [
      "pack",
      "--loglevel=warn",
      "--pack-destination",
      packDir,
      ...(workspaces ? ["--workspaces", "--include-workspace-root"] : []),
    ],
    repo,
  );
  const tarballs = readdirSync(packDir).filter((f) => f.endsWith(".tgz"));
  const own = `${manifest.name.replace(/^@/, "").replace("/", "-")}-${manifest.version}.tgz`;
  if (!tarballs.includes(own))
    throw new Error(`npm pack made ${tarballs.join(", ") || "nothing"}, not ${own}`);

  for (const tarball of tarballs) {
    const unpacked = join(work, "unpacked", tarball);
    mkdirSync(unpacked, { recursive: true });
    execFileSync("tar", ["-xzf", join(packDir, tarball), "-C", unpacked]);
    const files = filesUnder(join(unpacked, "package"));
    const dangling = danglingMaps(join(unpacked, "package"));
    if (dangling.length > 0) {
      throw new Error(
        `${tarball}: source maps point at files not in the package:\n  ${dangling.join("\n  ")}`,
      );
    }
    const maps = files.filter((f) => f.endsWith(".map")).length;
    say(`${tarball}: ${files.length} files, ${maps} source maps, every map carries its sources`);
  }

  const app = join(work, "app");
  mkdirSync(app);
  writeFileSync(
    join(app, "package.json"),
    `${JSON.stringify({ name: "airlock-pack-check", private: true, type: "module" }, null, 2)}\n`,
  );
  for (const tarball of tarballs) copyFileSync(join(packDir, tarball), join(app, tarball));
  // Our own tarball first, as the README says; workspace packages beside it.
  const installs = [own, ...tarballs.filter((t) => t !== own)].map((t) => `./${t}`);
  run("npm", ["install", "--no-audit", "--no-fund", ...installs], app);

  const help = run("npx", ["airlock", "--help"], app);
  if (!/airlock login/.test(help)) throw new Error(`npx airlock --help printed no usage:\n${help}`);
  say(`npx airlock --help: ${help.split("\n").length} lines, starting "${help.split("\n")[0]}"`);
  const importArgs = ["--input-type=module", "-e", IMPORTS, join(app, "check.db")];
  say(
    run(
      "node",
      importArgs,
      app,
      "--input-type=module -e <import airlock, airlock/client, airlock/emulator>",
    ).trim(),
  );
  say(`OK: ${own} installs, runs and imports`);
}

try {
  main();
} catch (error) {
  process.stderr.write(`check-pack: FAILED: ${error.message}\n`);
  process.exitCode = 1;
} finally {
  if (keep) say(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

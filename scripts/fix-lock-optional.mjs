#!/usr/bin/env node
// The npm registry mirror this project builds on does not serve every optional platform package
// (Biome's and Rollup's non-Linux binaries, for example). `npm install` then leaves them out of
// package-lock.json, and `npm ci` refuses the lock as "out of sync". This adds a lock entry for
// each such package, with the os/cpu its name says, so `npm ci` accepts the lock and, on Linux
// x64, skips them exactly as it would with a complete lock. Run after changing dependencies.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";

const OSES = [
  "android",
  "darwin",
  "freebsd",
  "linux",
  "openbsd",
  "netbsd",
  "sunos",
  "aix",
  "win32",
  "openharmony",
];
const CPUS = ["arm64", "x64", "ia32", "arm", "riscv64", "s390x", "ppc64", "loong64", "mips64el", "wasm32"];

function missingFromLock() {
  try {
    execFileSync("npm", ["ci", "--dry-run", "--ignore-scripts", "--no-audit", "--no-fund"], {
      stdio: "pipe",
    });
    return [];
  } catch (error) {
    const output = `${error.stdout ?? ""}${error.stderr ?? ""}`;
    return [...new Set([...output.matchAll(/Missing: (@?[^@\s]+)@/g)].map((match) => match[1]))];
  }
}

function platformOf(name) {
  const base = name.split("/").pop();
  const os = OSES.find((candidate) => base.includes(candidate));
  const cpu = CPUS.find((candidate) => new RegExp(`[-_]${candidate}([-_]|$)`).test(base));
  return { ...(os ? { os: [os] } : {}), ...(cpu ? { cpu: [cpu] } : {}) };
}

const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
const missing = missingFromLock();
let added = 0;
for (const name of missing) {
  const parent = Object.values(lock.packages).find((entry) => entry.optionalDependencies?.[name]);
  if (!parent) {
    process.stderr.write(`not an optional dependency, left alone: ${name}\n`);
    continue;
  }
  const version = parent.optionalDependencies[name].replace(/^[\^~=]/, "");
  lock.packages[`node_modules/${name}`] = { version, optional: true, ...platformOf(name) };
  added += 1;
}
writeFileSync("package-lock.json", `${JSON.stringify(lock, null, 2)}\n`);
process.stdout.write(
  `package-lock.json: added ${added} optional platform entr${added === 1 ? "y" : "ies"}\n`,
);

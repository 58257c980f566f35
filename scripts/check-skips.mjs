#!/usr/bin/env node
// Reads Vitest's JSON report and lists every test that did not run (skipped, todo, pending) with
// its file and name, then the "SKIPPED …" lines the suites printed (why, and the install command)
// when given the run's output. Exits 1 when any test was skipped, unless --allow: CI runs on a
// machine with every tool installed, where a skip means lost coverage, not a missing tool. The last
// line is always "LABEL: N passed, N failed, N skipped" (--label, default "tests"); --summary
// prints only that line.
//
//   npm test -- --reporter=default --reporter=json --outputFile.json=test-artifacts/vitest.json \
//     2>&1 | tee test-artifacts/vitest.log
//   node scripts/check-skips.mjs test-artifacts/vitest.json --log test-artifacts/vitest.log
//
// A test that cannot apply in an environment (e.g. an EACCES check when running as root) is not
// registered at all rather than skipped, so it never shows up here.
import { existsSync, readFileSync } from "node:fs";
import { relative } from "node:path";

const USAGE =
  "usage: node scripts/check-skips.mjs REPORT.json [--log OUTPUT.log] [--allow] [--label WORD] [--summary]";

function parseArgs(argv) {
  const options = { report: undefined, log: undefined, allow: false, label: "tests", summary: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--allow") options.allow = true;
    else if (arg === "--summary") options.summary = true;
    else if (arg === "--log") options.log = argv[++i];
    else if (arg === "--label") options.label = argv[++i];
    else if (!arg.startsWith("-") && options.report === undefined) options.report = arg;
    else throw new Error(`unexpected argument ${arg}\n${USAGE}`);
  }
  if (!options.report) throw new Error(USAGE);
  return options;
}

/** Every test of the report that neither passed nor failed. */
function notRun(report) {
  const found = [];
  for (const file of report.testResults ?? []) {
    for (const test of file.assertionResults ?? []) {
      if (test.status === "passed" || test.status === "failed") continue;
      const name = [...(test.ancestorTitles ?? []), test.title].join(" > ");
      found.push({ status: test.status, file: relative(process.cwd(), file.name), name });
    }
  }
  return found;
}

/** The suites' own skip lines ("[postgres] SKIPPED …", "[skip] …"), once each, without colour codes. */
function skipLines(logPath) {
  if (!logPath || !existsSync(logPath)) return [];
  const ansi = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");
  const lines = readFileSync(logPath, "utf8")
    .split("\n")
    .map((line) => line.replace(ansi, "").trim())
    .filter((line) => (/^\[[^\]]+\] /.test(line) && /\bSKIPPED\b/.test(line)) || /^\[skip\] /.test(line));
  return [...new Set(lines)];
}

function main() {
  const options = parseArgs(process.argv.slice(2));
  if (!existsSync(options.report)) {
    process.stderr.write(`check-skips: no report at ${options.report} (did the test run write one?)\n`);
    return 2;
  }
  const report = JSON.parse(readFileSync(options.report, "utf8"));
  const total = report.numTotalTests ?? 0;
  if (total === 0) {
    process.stderr.write("check-skips: the report has no tests at all\n");
    return 1;
  }
  const skipped = notRun(report);
  const failed = report.numFailedTests ?? 0;
  const passed = report.numPassedTests ?? 0;
  const out = process.stdout;
  if (skipped.length > 0 && !options.summary) {
    out.write(`check-skips: ${skipped.length} of ${total} tests did not run:\n`);
    for (const test of skipped) out.write(`  ${test.status.padEnd(7)} ${test.file} > ${test.name}\n`);
    const reasons = skipLines(options.log);
    if (reasons.length > 0) {
      out.write("check-skips: why (the suites' own lines):\n");
      for (const line of reasons) out.write(`  ${line}\n`);
    }
    if (!options.allow)
      out.write("check-skips: FAILED: on CI every tool is installed, so nothing may skip\n");
  } else if (!options.summary) {
    out.write(`check-skips: all ${total} tests ran, none skipped\n`);
  }
  out.write(`${options.label}: ${passed} passed, ${failed} failed, ${skipped.length} skipped\n`);
  return skipped.length > 0 && !options.allow ? 1 : 0;
}

try {
  process.exitCode = main();
} catch (error) {
  process.stderr.write(`check-skips: ${error.message}\n`);
  process.exitCode = 2;
}

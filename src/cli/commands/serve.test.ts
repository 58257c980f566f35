/**
 * `airlock serve --help` lists every environment variable the service reads: the names are taken
 * from the source of config.ts and log.ts (`env.X`, `nonEmpty(env, "X")`, `readInteger(env, "X"`,
 * `readEndpoint(env, "X")`), so a new setting without a help line fails here.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SERVE_HELP } from "./serve.js";

const SOURCES = [
  join(import.meta.dirname, "..", "..", "server", "config.ts"),
  join(import.meta.dirname, "..", "..", "shared", "log.ts"),
];

const READS = [
  /\benv\.([A-Z][A-Z0-9_]*)\b/g,
  /\benv\[\s*"([A-Z][A-Z0-9_]*)"\s*\]/g,
  /\b(?:nonEmpty|readInteger|readEndpoint|readSeconds)\(\s*env,\s*"([A-Z][A-Z0-9_]*)"/g,
];

function variablesRead(): Set<string> {
  const names = new Set<string>();
  for (const file of SOURCES) {
    const source = readFileSync(file, "utf8");
    for (const pattern of READS) for (const match of source.matchAll(pattern)) names.add(match[1] as string);
  }
  return names;
}

describe("airlock serve --help", () => {
  it("names every variable config.ts and log.ts read", () => {
    const names = variablesRead();
    // The scan itself works: a few we know are read.
    for (const known of ["PORT", "DATABASE_URL", "AIRLOCK_HOST", "AIRLOCK_LOG_LEVEL", "AIRTABLE_OAUTH_URL"]) {
      expect(names).toContain(known);
    }
    const missing = [...names].filter((name) => !new RegExp(`\\b${name}\\b`).test(SERVE_HELP));
    expect(missing).toEqual([]);
  });

  it("documents each AIRLOCK_ variable on a line of its own, with its default", () => {
    const undocumented = [...variablesRead()]
      .filter((name) => name.startsWith("AIRLOCK_"))
      .filter((name) => !new RegExp(`^ {2}${name}\\s{2,}\\S`, "m").test(SERVE_HELP));
    expect(undocumented).toEqual([]);
  });
});

/**
 * `airlock/client` is the separate `@airlock/client` package re-exported: existing imports keep
 * working, and the objects are the very same ones (one class, so `instanceof` agrees).
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as standalone from "@airlock/client";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { AirlockErrorCode } from "../shared/errors.js";
import * as viaMain from "./index.js";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

describe("airlock/client", () => {
  it("re-exports @airlock/client unchanged", () => {
    const main = new Map(Object.entries(viaMain));
    expect([...main.keys()].sort()).toEqual(Object.keys(standalone).sort());
    for (const [name, value] of Object.entries(standalone)) expect(main.get(name), name).toBe(value);
  });

  it("the SDK knows every error code the library (and so the service) can send", () => {
    // Checked by `tsc` (npm run lint): a code added to src/shared/errors.ts must be added to the SDK too.
    expectTypeOf<AirlockErrorCode>().toExtend<standalone.AirlockErrorCode>();
  });

  it("resolves from the built package by its name, for import and require()", () => {
    const script = `
      const a = await import("airlock/client");
      const b = await import("@airlock/client");
      const { createRequire } = await import("node:module");
      const require = createRequire(import.meta.url);
      const required = require("airlock/client");
      console.log(JSON.stringify({
        keys: Object.keys(a).sort(),
        same: Object.keys(b).every((k) => a[k] === b[k] && required[k] === b[k]),
        library: typeof require("airlock").AirtableOAuth,
      }));
    `;
    const out = execFileSync("node", ["--input-type=module", "-e", script], {
      cwd: repoRoot,
      encoding: "utf8",
    });
    const result = JSON.parse(out) as { keys: string[]; same: boolean; library: string };
    expect(result.keys).toContain("AirlockClient");
    expect(result.keys).toContain("verifyWebhook");
    expect(result.same).toBe(true);
    // ESM only, yet require()-able on Node >= 20.19 (engines): no top-level await in either graph.
    expect(result.library).toBe("function");
  });
});

import { describe, expect, it } from "vitest";
import { AirlockError } from "../shared/errors.js";
import { EXIT_CODE_HELP, ExitCode, exitCodeFor } from "./exit-codes.js";

describe("exitCodeFor", () => {
  it.each([
    ["invalid_input", 2],
    ["not_logged_in", 3],
    ["reauth_required", 3],
    ["transient", 4],
    ["rate_limited", 4],
    ["timeout", 4],
    ["config_invalid", 5],
    ["invalid_client", 5],
    ["port_in_use", 5],
    ["cancelled", 130],
    ["access_denied", 1],
    ["invalid_state", 1],
  ] as const)("%s → %i", (code, exit) => {
    expect(exitCodeFor(new AirlockError(code, "x"))).toBe(exit);
  });

  it("maps anything else to 1", () => {
    expect(exitCodeFor(new Error("boom"))).toBe(1);
  });

  it("documents every exit code in the help text", () => {
    for (const value of Object.values(ExitCode))
      expect(EXIT_CODE_HELP).toMatch(new RegExp(`^  ${value} `, "m"));
  });
});

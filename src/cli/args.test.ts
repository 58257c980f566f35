import { describe, expect, it } from "vitest";
import { isAirlockError } from "../shared/errors.js";
import { parseCommandArgs, parseIntegerFlag } from "./args.js";

const FLAGS = { profile: { type: "string" }, json: { type: "boolean" } } as const;

function usage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(isAirlockError(error, "invalid_input")).toBe(true);
    return `${(error as Error).message} | ${(error as { hint: string }).hint}`;
  }
  throw new Error("expected a usage error");
}

describe("parseCommandArgs", () => {
  it("parses known flags and positionals", () => {
    const parsed = parseCommandArgs("tables", ["appX", "--json", "--profile", "work"], FLAGS, 1);
    expect(parsed.values).toEqual({ json: true, profile: "work" });
    expect(parsed.positionals).toEqual(["appX"]);
  });

  it("names an unknown flag and points at the command's help", () => {
    expect(usage(() => parseCommandArgs("status", ["--jsn"], FLAGS, 0))).toBe(
      "Unknown flag --jsn. | Run `airlock status --help` to see its flags.",
    );
  });

  it("says when a flag needs a value or takes none", () => {
    expect(usage(() => parseCommandArgs("status", ["--profile"], FLAGS, 0))).toContain(
      "Flag --profile needs a value.",
    );
    expect(usage(() => parseCommandArgs("status", ["--json=1"], FLAGS, 0))).toContain(
      "Flag --json does not take a value.",
    );
  });

  it("refuses extra positionals", () => {
    expect(usage(() => parseCommandArgs("token", ["now"], FLAGS, 0))).toContain('Unexpected argument "now".');
  });
});

describe("parseIntegerFlag", () => {
  it("accepts whole numbers within bounds", () => {
    expect(parseIntegerFlag("login", "--port", "8085", 1, 65535)).toBe(8085);
  });
  it.each(["-1", "1.5", "abc", "", "0x10"])("rejects %j", (raw) => {
    expect(usage(() => parseIntegerFlag("login", "--port", raw, 1, 65535))).toContain(
      "--port must be a whole number",
    );
  });
  it("rejects out-of-range values", () => {
    expect(usage(() => parseIntegerFlag("login", "--timeout", "0", 1, 10))).toContain(
      "between 1 and 10, got 0",
    );
  });
});

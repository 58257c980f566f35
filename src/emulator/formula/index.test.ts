import { describe, expect, it } from "vitest";
import { compileFormula, FormulaError } from "./index.js";
import {
  compileError,
  evaluateFormula,
  passesFilter,
  TEST_CONTEXT,
  TEST_FIELDS,
  TEST_RECORD,
} from "./testing.js";

const INVALID =
  "The formula for filtering records is invalid: Invalid formula. Please check your formula text.";

describe("compileFormula refuses a bad formula before any record is read", () => {
  it.each([
    ["bad syntax", "{Priority} >", INVALID],
    ["an empty formula", "", INVALID],
    ["an unterminated string", "{Name} = 'x", INVALID],
    ["too few arguments", "IF({Done})", INVALID],
    ["too many arguments", "NOT(1, 2)", INVALID],
    ["arguments to a function that takes none", "TODAY(1)", INVALID],
    [
      "an unknown field in braces",
      "{Nope} = 1",
      "The formula for filtering records is invalid: Unknown field names: Nope",
    ],
    [
      "an unknown bare name",
      "Nope = 1",
      "The formula for filtering records is invalid: Unknown field names: Nope",
    ],
    [
      "every unknown field, once",
      "AND({a}, {b}, {a})",
      "The formula for filtering records is invalid: Unknown field names: a, b",
    ],
    [
      "a field name in the wrong case",
      "{name} = 'x'",
      "The formula for filtering records is invalid: Unknown field names: name",
    ],
    [
      "bare TRUE (only TRUE() is documented)",
      "{Done} = TRUE",
      "The formula for filtering records is invalid: Unknown field names: TRUE",
    ],
    [
      "an unknown function",
      "FOO(1)",
      "The formula for filtering records is invalid: Unknown function names: FOO",
    ],
    [
      "a function the emulator does not evaluate",
      "IS_AFTER(last_modified_time(), TODAY())",
      "The formula for filtering records is invalid: The Airlock emulator does not support these formula functions: LAST_MODIFIED_TIME",
    ],
  ])("%s", (_why, source, message) => {
    expect(compileError(source)).toBe(message);
  });

  it("throws FormulaError, with what was wrong as its cause", () => {
    let caught: unknown;
    try {
      compileFormula("IF(1)", TEST_FIELDS);
    } catch (error) {
      caught = error;
    }
    if (!(caught instanceof FormulaError)) throw new Error("expected a FormulaError");
    expect(caught.name).toBe("FormulaError");
    expect(String(caught.cause)).toContain("IF takes 2–3 arguments");
  });

  it("checks arity inside branches that a record would never reach", () => {
    expect(compileError("IF(1, 'a', LEFT('abc'))")).toBe(INVALID);
  });
});

describe("field references", () => {
  it.each([
    ["{Name}", "Feature 12"],
    ["Name", "Feature 12"],
    ["{Starts at}", "2024-01-05T09:30:00.000Z"],
    ["{Notes}", null],
    ["{Tags}", ["Backend", "Urgent"]],
    ["{Owner}", "Ada Lovelace"],
    ["{Releases}", ["recRelease00001"]],
    ["{Release dates}", ["2024-02-01T00:00:00.000Z", "2024-03-01T00:00:00.000Z"]],
  ])("%s is %j", (source, value) => {
    expect(evaluateFormula(source)).toEqual(value);
  });

  it("function names are case-insensitive", () => {
    expect(evaluateFormula("upper({Name})")).toBe("FEATURE 12");
    expect(evaluateFormula("Len(Name)")).toBe(10);
  });
});

describe("operators", () => {
  it.each([
    ["1 + 2", 3],
    ["5 - 7", -2],
    ["6 * 7", 42],
    ["7 / 2", 3.5],
    ["-{Priority}", -3],
    ["2 + 3 * 4", 14],
    ["(2 + 3) * 4", 20],
    ["{Empty number} + 1", 1],
    ["'4' * 2", 8],
    ["{Done} + {Done}", 2],
    ["'a' & 1 & {Notes} & {Done}", "a11"],
    ["{Name} & ': ' & {Tags}", "Feature 12: Backend, Urgent"],
    ["1 / 0", { error: "#ERROR!" }],
    ["'abc' + 1", { error: "#ERROR!" }],
    ["{Due} + 1", { error: "#ERROR!" }],
    ["-'x'", { error: "#ERROR!" }],
    ["ERROR() & 'x'", { error: "#ERROR!" }],
    ["3 = 3", true],
    ["3 != 3", false],
    ["2 < 3", true],
    ["3 > 3", false],
    ["3 <= 3", true],
    ["2 >= 3", false],
    ["'b' > 'a'", true],
    ["'Feature 12' = {Name}", true],
    ["{Name} = 'feature 12'", false],
    ["{Priority} = '3'", true],
    ["{Empty number} = 0", true],
    ["{Empty number} = BLANK()", true],
    ["{Notes} = ''", true],
    ["{Notes} = BLANK()", true],
    ["{Shipped} = 0", true],
    ["{Shipped} = FALSE()", true],
    ["{Done} = 1", true],
    ["{Done} = TRUE()", true],
    ["{Tags} = 'Backend, Urgent'", true],
    ["{Due} < TODAY()", true],
    ["{Due} = '2024-01-05'", true],
    ["{Due} > {Starts at}", false],
    ["{Due} != BLANK()", true],
    ["ERROR() = 1", { error: "#ERROR!" }],
  ])("%s → %j", (source, value) => {
    expect(evaluateFormula(source)).toEqual(value);
  });
});

describe("matches: Airtable's filter truth", () => {
  it.each([
    ["1", true],
    ["'x'", true],
    ["0", false],
    ["''", false],
    ["BLANK()", false],
    ["FALSE()", false],
    ["{Notes}", false],
    ["{Tags}", true],
    ["{Shipped}", false],
    ["{Done}", true],
    ["0 / 0", false],
    ["SQRT(-1)", false],
    ["ERROR()", false],
    ["AND({Priority} >= 3, NOT({Shipped}), FIND('Urgent', {Tags}))", true],
    ["OR({Shipped}, {Priority} > 5)", false],
  ])("%s → %s", (source, pass) => {
    expect(passesFilter(source)).toBe(pass);
  });

  it("reads the record's own cells each time", () => {
    const formula = compileFormula("{Priority} > 2", TEST_FIELDS);
    const low = { ...TEST_RECORD, fields: { ...TEST_RECORD.fields, Priority: 1 } };
    expect(formula.matches(TEST_RECORD, TEST_CONTEXT)).toBe(true);
    expect(formula.matches(low, TEST_CONTEXT)).toBe(false);
  });
});

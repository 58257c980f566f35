import { describe, expect, it } from "vitest";
import { evaluateFormula } from "../testing.js";

describe("logic functions", () => {
  it.each([
    ["AND(1, 'x', TRUE())", true],
    ["AND(1, 0)", false],
    ["AND({Notes})", false],
    ["OR(0, '', {Done})", true],
    ["OR(0, BLANK())", false],
    ["XOR(1, 0)", true],
    ["XOR(1, 1)", false],
    ["XOR(1, 1, 1)", true],
    ["NOT(0)", true],
    ["NOT({Tags})", false],
    ["IF({Done}, 'yes', 'no')", "yes"],
    ["IF({Shipped}, 'yes', 'no')", "no"],
    ["IF({Shipped}, 'yes')", null],
    ["IF(1, 'ok', ERROR())", "ok"],
    ["IF(ERROR(), 'a', 'b')", { error: "#ERROR!" }],
    ["IF(0, 1/0, 2)", 2],
    ["SWITCH({Priority}, 1, 'low', 3, 'high', 'other')", "high"],
    ["SWITCH({Priority}, 1, 'low', 'other')", "other"],
    ["SWITCH({Priority}, 1, 'low')", null],
    ["SWITCH({Name}, 'Feature 12', 'found')", "found"],
    ["SWITCH({Notes}, BLANK(), 'empty', 'full')", "empty"],
    ["SWITCH(2, 'default')", "default"],
    ["SWITCH(1, 1, 'one', ERROR())", "one"],
    ["TRUE()", true],
    ["FALSE()", false],
    ["BLANK()", null],
    ["ERROR()", { error: "#ERROR!" }],
    ["ISERROR(ERROR())", true],
    ["ISERROR(1 / 0)", true],
    ["ISERROR(1)", false],
    ["NOT(ERROR())", { error: "#ERROR!" }],
    ["AND(1, ERROR())", { error: "#ERROR!" }],
  ])("%s → %j", (source, value) => {
    expect(evaluateFormula(source)).toEqual(value);
  });
});

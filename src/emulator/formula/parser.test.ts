import { describe, expect, it } from "vitest";
import { type Expr, parseFormula } from "./parser.js";
import { FormulaError } from "./types.js";

/** The tree written back with full parentheses, so precedence shows. */
function show(expr: Expr): string {
  switch (expr.kind) {
    case "literal":
      return JSON.stringify(expr.value);
    case "field":
      return `{${expr.name}}`;
    case "call":
      return `${expr.name}(${expr.args.map(show).join(", ")})`;
    case "negate":
      return `(-${show(expr.operand)})`;
    case "binary":
      return `(${show(expr.left)} ${expr.op} ${show(expr.right)})`;
  }
}

describe("parseFormula", () => {
  it.each([
    ["1 + 2 * 3", "(1 + (2 * 3))"],
    ["(1 + 2) * 3", "((1 + 2) * 3)"],
    ["10 - 4 - 3", "((10 - 4) - 3)"],
    ["8 / 4 / 2", "((8 / 4) / 2)"],
    ["1 + 2 & 3", "((1 + 2) & 3)"],
    ["{A} & 'x' = 'yx'", '(({A} & "x") = "yx")'],
    ["1 < 2 = 1", "((1 < 2) = 1)"],
    ["-2 * 3", "((-2) * 3)"],
    ["2 * -3", "(2 * (-3))"],
    ["--1", "(-(-1))"],
    ["a != b", "({a} != {b})"],
    ["x <= 1", "({x} <= 1)"],
    ["x >= 1", "({x} >= 1)"],
    ["{Owner email} > 'm'", '({Owner email} > "m")'],
    ["NOW()", "NOW()"],
    ["if(1, 'a', 'b')", 'if(1, "a", "b")'],
    ["AND(OR(a, b), NOT(c))", "AND(OR({a}, {b}), NOT({c}))"],
    ["SUM((1), 2)", "SUM(1, 2)"],
  ])("%s parses as %s", (source, tree) => {
    expect(show(parseFormula(source))).toBe(tree);
  });

  it.each([
    ["an empty formula", ""],
    ["only spaces", "   "],
    ["a trailing operator", "1 +"],
    ["a leading binary operator", "* 2"],
    ["two values side by side", "1 2"],
    ["an unclosed parenthesis", "(1 + 2"],
    ["an extra closing parenthesis", "1 + 2)"],
    ["an unclosed call", "IF(1, 2"],
    ["a trailing comma", "IF(1, 2,)"],
    ["an empty argument", "IF(1, , 2)"],
    ["a call on a field", "{Name}(1)"],
    ["a call on a string", "'a'(1)"],
    ["runaway nesting", `${"(".repeat(300)}1${")".repeat(300)}`],
    ["runaway negation", `${"-".repeat(300)}1`],
  ])("refuses %s", (_why, source) => {
    expect(() => parseFormula(source)).toThrow(FormulaError);
  });

  it("accepts nesting a person would write", () => {
    expect(show(parseFormula(`${"(".repeat(50)}1${")".repeat(50)}`))).toBe("1");
  });
});

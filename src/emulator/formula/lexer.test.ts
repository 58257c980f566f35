import { describe, expect, it } from "vitest";
import { tokenize } from "./lexer.js";
import { FormulaError } from "./types.js";

/** Each token as [kind, its value], positions left out. */
const kinds = (source: string) =>
  tokenize(source).map(({ at: _at, kind, ...value }) => [kind, ...Object.values(value)]);

describe("tokenize", () => {
  it.each([
    ["42", ["number", 42]],
    ["3.25", ["number", 3.25]],
    [".5", ["number", 0.5]],
    ['"double"', ["string", "double"]],
    ["'single'", ["string", "single"]],
    ['"say \\"hi\\""', ["string", 'say "hi"']],
    ["'it\\'s'", ["string", "it's"]],
    ['"a\\\\b"', ["string", "a\\b"]],
    ['"line\\nbreak\\ttab"', ["string", "line\nbreak\ttab"]],
    ["'\"'", ["string", '"']],
    ["{Owner email}", ["field", "Owner email"]],
    ["{a\\}b}", ["field", "a}b"]],
    ["Priority", ["identifier", "Priority"]],
    ["_x1", ["identifier", "_x1"]],
  ])("reads %s", (source, token) => {
    expect(kinds(source)).toEqual([token, ["end"]]);
  });

  it("reads every operator, longest first", () => {
    expect(kinds("<= >= != = < > + - * / &").slice(0, -1)).toEqual(
      ["<=", ">=", "!=", "=", "<", ">", "+", "-", "*", "/", "&"].map((op) => ["operator", op]),
    );
  });

  it("skips whitespace and newlines between tokens", () => {
    expect(kinds(" IF(\n\t{A} ,1 )")).toEqual([
      ["identifier", "IF"],
      ["punct", "("],
      ["field", "A"],
      ["punct", ","],
      ["number", 1],
      ["punct", ")"],
      ["end"],
    ]);
  });

  it.each([
    ["an unterminated string", "'abc"],
    ["an unterminated field", "{Name"],
    ["a dangling escape", "'abc\\"],
    ["an unknown character", "1 % 2"],
    ["a bare exclamation mark", "!{A}"],
    ["a number run into a name", "3abc"],
    ["a double-pipe or", "1 || 0"],
  ])("refuses %s", (_why, source) => {
    expect(() => tokenize(source)).toThrow(FormulaError);
  });
});

/**
 * Splits formula text into tokens: numbers, strings ('…' or "…" with backslash escapes), `{field}`
 * references, bare identifiers (function names or space-free field names), operators and punctuation.
 */
import { invalidFormula } from "./types.js";

export type Token =
  | { kind: "number"; value: number; at: number }
  | { kind: "string"; value: string; at: number }
  | { kind: "field"; name: string; at: number }
  | { kind: "identifier"; name: string; at: number }
  | { kind: "operator"; op: Operator; at: number }
  | { kind: "punct"; char: "(" | ")" | ","; at: number }
  | { kind: "end"; at: number };

export const OPERATORS = ["<=", ">=", "!=", "=", "<", ">", "+", "-", "*", "/", "&"] as const;
export type Operator = (typeof OPERATORS)[number];

/** What a backslash followed by this character stands for inside a string literal. */
const ESCAPES: Readonly<Record<string, string>> = { n: "\n", t: "\t", r: "\r" };

const NUMBER = /^(?:\d+(?:\.\d*)?|\.\d+)/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*/;
const WHITESPACE = /^\s+/;

/** Reads a quoted literal starting at `start` (the quote); returns its value and the index after it. */
function readQuoted(source: string, start: number, close: string): { value: string; next: number } {
  let value = "";
  for (let i = start + 1; i < source.length; i++) {
    const char = source[i]!;
    if (char === close) return { value, next: i + 1 };
    if (char === "\\") {
      i++;
      if (i >= source.length) break;
      const escaped = source[i]!;
      value += ESCAPES[escaped] ?? escaped;
    } else {
      value += char;
    }
  }
  throw invalidFormula(`unterminated ${close === "}" ? "field reference" : "string"} at ${start}`);
}

function readToken(source: string, at: number): { token: Token; next: number } {
  const rest = source.slice(at);
  const char = source[at]!;
  if (char === '"' || char === "'") {
    const { value, next } = readQuoted(source, at, char);
    return { token: { kind: "string", value, at }, next };
  }
  if (char === "{") {
    const { value, next } = readQuoted(source, at, "}");
    return { token: { kind: "field", name: value, at }, next };
  }
  if (char === "(" || char === ")" || char === ",")
    return { token: { kind: "punct", char, at }, next: at + 1 };
  const number = NUMBER.exec(rest);
  if (number) {
    if (IDENTIFIER.test(rest.slice(number[0].length))) throw invalidFormula(`bad number at ${at}`);
    return { token: { kind: "number", value: Number(number[0]), at }, next: at + number[0].length };
  }
  const identifier = IDENTIFIER.exec(rest);
  if (identifier)
    return { token: { kind: "identifier", name: identifier[0], at }, next: at + identifier[0].length };
  const op = OPERATORS.find((o) => rest.startsWith(o));
  if (op) return { token: { kind: "operator", op, at }, next: at + op.length };
  throw invalidFormula(`unexpected ${JSON.stringify(char)} at ${at}`);
}

/** The tokens of `source`, ending with an `end` token; throws FormulaError on text no token fits. */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < source.length) {
    const space = WHITESPACE.exec(source.slice(at));
    if (space) {
      at += space[0].length;
      continue;
    }
    const { token, next } = readToken(source, at);
    tokens.push(token);
    at = next;
  }
  tokens.push({ kind: "end", at });
  return tokens;
}

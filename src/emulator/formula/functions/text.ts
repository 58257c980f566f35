/**
 * Text functions. Positions are 1-based like Airtable's; counts that are not numbers are errors.
 * Regular expressions: Airtable documents RE2; the emulator runs them as JavaScript RegExp, which
 * agrees on the common syntax, and reads RE2's leading inline flags such as `(?i)`.
 */
import { ErrorValue, toNumber, toText, type Value } from "../values.js";
import { define, type FunctionTable } from "./types.js";

/** A count or position argument as a non-negative whole number, or an error. */
function count(value: Value | undefined, fallback: number): number | ErrorValue {
  if (value === undefined) return fallback;
  const n = toNumber(value);
  return Number.isNaN(n) ? new ErrorValue("not a number") : Math.max(0, Math.trunc(n));
}

/** The 1-based position of `needle` in `haystack` from `start`, or 0. */
function find([needle, haystack, start]: Value[]): number | ErrorValue {
  const from = count(start, 0);
  if (from instanceof ErrorValue) return from;
  return toText(haystack!).indexOf(toText(needle!), Math.max(0, from - 1)) + 1;
}

const INLINE_FLAGS = /^\(\?([imsU]+)\)/;

/** A RegExp from RE2-style source, or an error for a pattern JavaScript cannot read. */
function regex(pattern: Value, global: boolean): RegExp | ErrorValue {
  let source = toText(pattern);
  let flags = global ? "gu" : "u";
  const inline = INLINE_FLAGS.exec(source);
  if (inline) {
    flags += inline[1]!.replace("U", "");
    source = source.slice(inline[0].length);
  }
  try {
    return new RegExp(source, flags);
  } catch {
    return new ErrorValue(`invalid regular expression ${source}`);
  }
}

function substitute([text, from, to, index]: Value[]): Value {
  const source = toText(text!);
  const old = toText(from!);
  const replacement = toText(to!);
  if (old === "") return source;
  if (index === undefined) return source.split(old).join(replacement);
  const nth = count(index, 0);
  if (nth instanceof ErrorValue) return nth;
  let at = -1;
  for (let i = 0; i < nth; i++) {
    at = source.indexOf(old, at + 1);
    if (at < 0) return source;
  }
  return at < 0 ? source : source.slice(0, at) + replacement + source.slice(at + old.length);
}

function replace([text, start, length, replacement]: Value[]): Value {
  const from = count(start, 1);
  const howMany = count(length, 0);
  if (from instanceof ErrorValue) return from;
  if (howMany instanceof ErrorValue) return howMany;
  const source = toText(text!);
  const at = Math.max(0, from - 1);
  return source.slice(0, at) + toText(replacement!) + source.slice(at + howMany);
}

function sliceWith(
  text: Value,
  n: Value,
  slice: (source: string, howMany: number) => string,
): string | ErrorValue {
  const howMany = count(n, 0);
  return howMany instanceof ErrorValue ? howMany : slice(toText(text), howMany);
}

export const textFunctions: FunctionTable = {
  CONCATENATE: define(1, Infinity, (args) => args.map(toText).join("")),
  FIND: define(2, 3, find),
  SEARCH: define(2, 3, (args) => {
    const at = find(args);
    return at === 0 ? null : at;
  }),
  LEFT: define(2, 2, ([text, n]) => sliceWith(text!, n!, (s, k) => s.slice(0, k))),
  RIGHT: define(2, 2, ([text, n]) => sliceWith(text!, n!, (s, k) => (k === 0 ? "" : s.slice(-k)))),
  MID: define(3, 3, ([text, start, n]) => {
    const from = count(start, 1);
    if (from instanceof ErrorValue) return from;
    return sliceWith(text!, n!, (s, k) => s.slice(Math.max(0, from - 1), Math.max(0, from - 1) + k));
  }),
  LEN: define(1, 1, ([text]) => toText(text!).length),
  LOWER: define(1, 1, ([text]) => toText(text!).toLowerCase()),
  UPPER: define(1, 1, ([text]) => toText(text!).toUpperCase()),
  TRIM: define(1, 1, ([text]) => toText(text!).trim()),
  SUBSTITUTE: define(3, 4, substitute),
  REPLACE: define(4, 4, replace),
  REPT: define(2, 2, ([text, n]) => sliceWith(text!, n!, (s, k) => s.repeat(k))),
  T: define(1, 1, ([value]) => (typeof value === "string" ? value : null)),
  ENCODE_URL_COMPONENT: define(1, 1, ([text]) => encodeURIComponent(toText(text!))),
  REGEX_MATCH: define(2, 2, ([text, pattern]) => {
    const re = regex(pattern!, false);
    return re instanceof ErrorValue ? re : re.test(toText(text!));
  }),
  REGEX_EXTRACT: define(2, 2, ([text, pattern]) => {
    const re = regex(pattern!, false);
    if (re instanceof ErrorValue) return re;
    return re.exec(toText(text!))?.[0] ?? new ErrorValue("no match");
  }),
  REGEX_REPLACE: define(3, 3, ([text, pattern, replacement]) => {
    const re = regex(pattern!, true);
    return re instanceof ErrorValue ? re : toText(text!).replace(re, toText(replacement!));
  }),
};

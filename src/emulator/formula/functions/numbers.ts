/**
 * Number functions. Arguments read as numbers (blank is 0, numeric text its number, other text NaN);
 * the aggregates (SUM, AVERAGE, MAX, MIN, COUNT…) take lists too and skip what is not a number.
 */
import { ErrorValue, isBlank, toNumber, toText, type Value } from "../values.js";
import { define, type FunctionTable, flatten } from "./types.js";

/** The numbers among the (flattened) arguments: numbers, booleans and numeric text; blanks skipped. */
function numbersIn(args: Value[]): number[] {
  return flatten(args)
    .filter((v) => v !== null && !(typeof v === "string" && v.trim() === ""))
    .map(toNumber)
    .filter((n) => !Number.isNaN(n));
}

/** Scales by 10^digits through the exponent, so ROUND(1.005, 2) is 1.01 and not 1.00. */
function shift(value: number, digits: number): number {
  const [mantissa, exponent = "0"] = String(value).split("e");
  return Number(`${mantissa}e${Number(exponent) + digits}`);
}

/** Rounds |value| at `digits` decimals with `round`, keeping the sign (half away from zero for ROUND). */
function roundWith(round: (n: number) => number) {
  return ([value, digits]: Value[]): number => {
    const n = toNumber(value!);
    const d = Math.trunc(toNumber(digits!));
    return Math.sign(n) * shift(round(shift(Math.abs(n), d)), -d) || 0;
  };
}

/** CEILING/FLOOR: the multiple of significance (1 by default) at or beyond the value. */
function toMultiple(round: (n: number) => number) {
  return ([value, significance]: Value[]): number => {
    const step = significance === undefined ? 1 : toNumber(significance);
    return round(toNumber(value!) / step) * step || 0;
  };
}

/** EVEN/ODD: away from zero to the next even (or odd) whole number, as Excel and Airtable do. */
function toParity(odd: boolean) {
  return ([value]: Value[]): number => {
    const n = toNumber(value!);
    const up = Math.ceil(Math.abs(n));
    const fits = (up % 2 === 1) === odd;
    return Math.sign(n || 1) * (fits ? up : up + 1);
  };
}

/** VALUE(text): the number in text such as "$1,000.50" (currency signs, separators and % dropped). */
function numberInText([text]: Value[]): number {
  if (typeof text === "number") return text;
  const cleaned = toText(text!).replace(/[^0-9.eE+-]/g, "");
  return cleaned === "" ? Number.NaN : toNumber(cleaned);
}

const unary = (f: (n: number) => number) => define(1, 1, ([value]) => f(toNumber(value!)));

export const numberFunctions: FunctionTable = {
  ABS: unary(Math.abs),
  SQRT: unary(Math.sqrt),
  EXP: unary(Math.exp),
  INT: unary(Math.floor),
  EVEN: define(1, 1, toParity(false)),
  ODD: define(1, 1, toParity(true)),
  ROUND: define(2, 2, roundWith(Math.round)),
  ROUNDUP: define(2, 2, roundWith(Math.ceil)),
  ROUNDDOWN: define(2, 2, roundWith(Math.floor)),
  CEILING: define(1, 2, toMultiple(Math.ceil)),
  FLOOR: define(1, 2, toMultiple(Math.floor)),
  POWER: define(2, 2, ([base, power]) => toNumber(base!) ** toNumber(power!)),
  LOG: define(1, 2, ([value, base]) => {
    const n = toNumber(value!);
    const b = base === undefined ? 10 : toNumber(base);
    // log10 and log2 are exact on powers of their base, where the ratio of natural logs is not.
    return b === 10 ? Math.log10(n) : b === 2 ? Math.log2(n) : Math.log(n) / Math.log(b);
  }),
  MOD: define(2, 2, ([value, divisor]) => {
    const d = toNumber(divisor!);
    return d === 0 ? new ErrorValue("division by zero") : toNumber(value!) % d;
  }),
  SUM: define(1, Infinity, (args) => numbersIn(args).reduce((a, b) => a + b, 0)),
  AVERAGE: define(1, Infinity, (args) => {
    const numbers = numbersIn(args);
    return numbers.length === 0 ? 0 : numbers.reduce((a, b) => a + b, 0) / numbers.length;
  }),
  MAX: define(1, Infinity, (args) => {
    const numbers = numbersIn(args);
    return numbers.length === 0 ? 0 : Math.max(...numbers);
  }),
  MIN: define(1, Infinity, (args) => {
    const numbers = numbersIn(args);
    return numbers.length === 0 ? 0 : Math.min(...numbers);
  }),
  COUNT: define(1, Infinity, (args) => flatten(args).filter((v) => typeof v === "number").length),
  COUNTA: define(1, Infinity, (args) => flatten(args).filter((v) => !isBlank(v)).length),
  COUNTALL: define(1, Infinity, (args) => flatten(args).length),
  VALUE: define(1, 1, numberInText),
};

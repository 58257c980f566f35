/**
 * Date functions on the emulator clock (NOW, TODAY) and the context's time zone (UTC by default,
 * like Airtable's API). Arguments read as dates: a date value, or ISO 8601 / M/D/YYYY text; a blank
 * or unreadable date makes the call an error, as Airtable shows #ERROR!.
 */
import {
  addToDate,
  type DateParts,
  type DateUnit,
  dateParts,
  diffDates,
  isSameUnit,
  normalizeUnit,
  wallTime,
} from "../datetime.js";
import { formatDate, weekOfYear } from "../datetime-format.js";
import { parseWithFormat } from "../datetime-parse.js";
import { ErrorValue, toDate, toNumber, toText, type Value } from "../values.js";
import { define, type EvalEnv, type FunctionTable } from "./types.js";

const notADate = (value: Value | undefined) => new ErrorValue(`not a date: ${toText(value ?? null)}`);

function unitOf(value: Value | undefined, fallback: DateUnit): DateUnit | ErrorValue {
  if (value === undefined) return fallback;
  return normalizeUnit(toText(value).trim()) ?? new ErrorValue(`unknown unit ${toText(value)}`);
}

/** Runs `f` with the wall-clock parts of the argument in the context's zone, or returns the error. */
function withParts(value: Value | undefined, env: EvalEnv, f: (p: DateParts) => Value): Value {
  const date = toDate(value ?? null);
  if (!date) return notADate(value);
  try {
    return f(dateParts(date, env.context.timeZone));
  } catch {
    return new ErrorValue(`unknown time zone ${env.context.timeZone}`);
  }
}

/** A function of two dates; either one unreadable makes it an error. */
function twoDates(f: (a: Date, b: Date, rest: Value[], env: EvalEnv) => Value) {
  return ([first, second, ...rest]: Value[], env: EvalEnv): Value => {
    const a = toDate(first!);
    const b = toDate(second!);
    if (!a) return notADate(first);
    if (!b) return notADate(second);
    return f(a, b, rest, env);
  };
}

const DAY_NAMES = ["sunday", "monday"];

/** WEEKDAY/WEEKNUM's optional start day: "Sunday" (default) or "Monday". */
function firstDayOf(value: Value | undefined): number | ErrorValue {
  if (value === undefined) return 0;
  const index = DAY_NAMES.indexOf(toText(value).trim().toLowerCase());
  return index < 0 ? new ErrorValue(`bad start day ${toText(value)}`) : index;
}

const part = (pick: (p: DateParts) => number) => define(1, 1, ([date], env) => withParts(date, env, pick));

function dateAdd([date, count, unit]: Value[]): Value {
  const start = toDate(date!);
  if (!start) return notADate(date);
  const u = unitOf(unit, "days");
  const n = toNumber(count!);
  if (u instanceof ErrorValue) return u;
  return Number.isNaN(n) ? new ErrorValue("count is not a number") : addToDate(start, n, u);
}

function datetimeFormat([date, format]: Value[], env: EvalEnv): Value {
  const value = toDate(date!);
  if (!value) return notADate(date);
  if (format === undefined) return value.toISOString();
  try {
    return formatDate(value, toText(format), env.context.timeZone);
  } catch {
    return new ErrorValue(`unknown time zone ${env.context.timeZone}`);
  }
}

function datetimeParse([text, format]: Value[], env: EvalEnv): Value {
  if (text instanceof Date) return text;
  const parsed =
    format === undefined || format === null
      ? toDate(text!)
      : parseWithFormat(toText(text!), toText(format), env.context.now);
  return parsed ?? notADate(text);
}

export const dateFunctions: FunctionTable = {
  NOW: define(0, 0, (_args, env) => new Date(env.context.now.getTime())),
  TODAY: define(0, 0, (_args, env) =>
    withParts(env.context.now, env, (p) => new Date(wallTime({ year: p.year, month: p.month, day: p.day }))),
  ),
  DATEADD: define(3, 3, dateAdd),
  DATETIME_DIFF: define(
    2,
    3,
    twoDates((a, b, [unit]) => {
      const u = unitOf(unit, "seconds");
      return u instanceof ErrorValue ? u : diffDates(a, b, u);
    }),
  ),
  DATETIME_FORMAT: define(1, 2, datetimeFormat),
  DATETIME_PARSE: define(1, 3, datetimeParse),
  DATESTR: define(1, 1, ([date], env) => datetimeFormat([date!, "YYYY-MM-DD"], env)),
  TIMESTR: define(1, 1, ([date], env) => datetimeFormat([date!, "HH:mm:ss"], env)),
  IS_SAME: define(
    2,
    3,
    twoDates((a, b, [unit], env) => {
      const u = unitOf(unit, "milliseconds");
      if (u instanceof ErrorValue) return u;
      try {
        return isSameUnit(a, b, u, env.context.timeZone);
      } catch {
        return new ErrorValue(`unknown time zone ${env.context.timeZone}`);
      }
    }),
  ),
  IS_BEFORE: define(
    2,
    2,
    twoDates((a, b) => a.getTime() < b.getTime()),
  ),
  IS_AFTER: define(
    2,
    2,
    twoDates((a, b) => a.getTime() > b.getTime()),
  ),
  YEAR: part((p) => p.year),
  MONTH: part((p) => p.month),
  DAY: part((p) => p.day),
  HOUR: part((p) => p.hour),
  MINUTE: part((p) => p.minute),
  SECOND: part((p) => p.second),
  WEEKDAY: define(1, 2, ([date, start], env) => {
    const first = firstDayOf(start);
    return first instanceof ErrorValue ? first : withParts(date, env, (p) => (p.weekday - first + 7) % 7);
  }),
  WEEKNUM: define(1, 2, ([date, start], env) => {
    const first = firstDayOf(start);
    return first instanceof ErrorValue ? first : withParts(date, env, (p) => weekOfYear(p, first));
  }),
};

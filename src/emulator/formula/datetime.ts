/**
 * Date arithmetic the date functions share, following moment.js (which Airtable's formula
 * functions mirror): unit names and aliases, adding with month-end clamping, truncated differences,
 * and a date's wall-clock parts in a time zone. Everything is computed on UTC instants.
 */

export const UNITS = [
  "milliseconds",
  "seconds",
  "minutes",
  "hours",
  "days",
  "weeks",
  "months",
  "quarters",
  "years",
] as const;
export type DateUnit = (typeof UNITS)[number];

/** moment's case-sensitive short aliases ("M" is months, "m" minutes). */
const SHORT_UNITS: Readonly<Record<string, DateUnit>> = {
  ms: "milliseconds",
  s: "seconds",
  m: "minutes",
  h: "hours",
  d: "days",
  w: "weeks",
  M: "months",
  Q: "quarters",
  y: "years",
};

const FIXED_MS: Partial<Record<DateUnit, number>> = {
  milliseconds: 1,
  seconds: 1000,
  minutes: 60_000,
  hours: 3_600_000,
  days: 86_400_000,
  weeks: 604_800_000,
};

/** A unit by any of its names ("days", "day", "Days", "d"), or undefined. */
export function normalizeUnit(name: string): DateUnit | undefined {
  const short = SHORT_UNITS[name];
  if (short) return short;
  const long = name.toLowerCase();
  return UNITS.find((unit) => unit === long || unit === `${long}s`);
}

/** `date` plus `count` units; days and longer take whole counts (moment rounds them). */
export function addToDate(date: Date, count: number, unit: DateUnit): Date {
  const fixed = FIXED_MS[unit];
  if (unit === "milliseconds" || unit === "seconds" || unit === "minutes" || unit === "hours") {
    return new Date(date.getTime() + count * fixed!);
  }
  if (fixed !== undefined) return new Date(date.getTime() + Math.round(count) * fixed);
  const months = Math.round(count) * (unit === "years" ? 12 : unit === "quarters" ? 3 : 1);
  return addMonths(date, months);
}

/** Calendar months added, the day clamped to the target month's last day (Jan 31 + 1 month = Feb 29). */
function addMonths(date: Date, months: number): Date {
  const total = date.getUTCFullYear() * 12 + date.getUTCMonth() + months;
  const year = Math.floor(total / 12);
  const month = total - year * 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const result = new Date(date.getTime());
  result.setUTCFullYear(year, month, Math.min(date.getUTCDate(), lastDay));
  return result;
}

/** moment's monthDiff: whole months from b to a plus the fraction of the month around the anchor. */
function monthDiff(a: Date, b: Date): number {
  if (a.getUTCDate() < b.getUTCDate()) return -monthDiff(b, a);
  const whole = (b.getUTCFullYear() - a.getUTCFullYear()) * 12 + (b.getUTCMonth() - a.getUTCMonth());
  const anchor = addMonths(a, whole).getTime();
  const toB = b.getTime() - anchor;
  const other = addMonths(a, toB < 0 ? whole - 1 : whole + 1).getTime();
  const adjust = toB < 0 ? toB / (anchor - other) : toB / (other - anchor);
  return -(whole + adjust) || 0;
}

/** `a - b` in `unit`, truncated toward zero like moment's diff. */
export function diffDates(a: Date, b: Date, unit: DateUnit): number {
  const fixed = FIXED_MS[unit];
  const exact =
    fixed !== undefined
      ? (a.getTime() - b.getTime()) / fixed
      : monthDiff(a, b) / (unit === "years" ? 12 : unit === "quarters" ? 3 : 1);
  return Math.trunc(exact) || 0;
}

export interface DateParts {
  year: number;
  /** 1–12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
  /** 0 = Sunday */
  weekday: number;
  /** Minutes east of UTC. */
  offsetMinutes: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The wall-clock parts of `date` in `timeZone` (UTC by default); throws RangeError for an unknown zone. */
export function dateParts(date: Date, timeZone = "UTC"): DateParts {
  const ms = date.getTime();
  let wall = ms;
  if (timeZone !== "UTC") {
    const parts = Object.fromEntries(
      formatterFor(timeZone)
        .formatToParts(date)
        .map((p) => [p.type, p.value]),
    );
    const field = (name: string) => Number(parts[name]);
    wall =
      Date.UTC(
        field("year"),
        field("month") - 1,
        field("day"),
        field("hour"),
        field("minute"),
        field("second"),
      ) + date.getUTCMilliseconds();
  }
  const w = new Date(wall);
  return {
    year: w.getUTCFullYear(),
    month: w.getUTCMonth() + 1,
    day: w.getUTCDate(),
    hour: w.getUTCHours(),
    minute: w.getUTCMinutes(),
    second: w.getUTCSeconds(),
    millisecond: w.getUTCMilliseconds(),
    weekday: w.getUTCDay(),
    offsetMinutes: Math.round((wall - ms) / 60_000),
  };
}

/** The instant whose UTC wall clock shows these parts (a zone's wall time, read as UTC). */
export function wallTime(p: Pick<DateParts, "year" | "month" | "day"> & Partial<DateParts>): number {
  return Date.UTC(p.year, p.month - 1, p.day, p.hour ?? 0, p.minute ?? 0, p.second ?? 0, p.millisecond ?? 0);
}

/** Whether two dates agree down to `unit` (moment's isSame), judged on their wall clocks in `timeZone`. */
export function isSameUnit(a: Date, b: Date, unit: DateUnit, timeZone = "UTC"): boolean {
  return startOf(dateParts(a, timeZone), unit) === startOf(dateParts(b, timeZone), unit);
}

function startOf(p: DateParts, unit: DateUnit): number {
  switch (unit) {
    case "years":
      return wallTime({ year: p.year, month: 1, day: 1 });
    case "quarters":
      return wallTime({ year: p.year, month: p.month - ((p.month - 1) % 3), day: 1 });
    case "months":
      return wallTime({ year: p.year, month: p.month, day: 1 });
    case "weeks":
      return wallTime({ year: p.year, month: p.month, day: p.day - p.weekday });
    case "days":
      return wallTime({ year: p.year, month: p.month, day: p.day });
    case "hours":
      return wallTime({ ...p, minute: 0, second: 0, millisecond: 0 });
    case "minutes":
      return wallTime({ ...p, second: 0, millisecond: 0 });
    case "seconds":
      return wallTime({ ...p, millisecond: 0 });
    case "milliseconds":
      return wallTime(p);
  }
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;
const US_DATE = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AP]M)?)?$/i;

/** A valid instant from these parts, or undefined when a part is out of range (2024-02-30). */
export function validDate(
  parts: Omit<DateParts, "weekday" | "offsetMinutes">,
  offsetMinutes = 0,
): Date | undefined {
  const wall = wallTime(parts);
  const check = new Date(wall);
  if (
    check.getUTCFullYear() !== parts.year ||
    check.getUTCMonth() + 1 !== parts.month ||
    check.getUTCDate() !== parts.day ||
    parts.hour > 23 ||
    parts.minute > 59 ||
    parts.second > 59
  ) {
    return undefined;
  }
  return new Date(wall - offsetMinutes * 60_000);
}

/** Minutes east of UTC of "Z", "+02:00" or "-0530"; none is UTC. */
export function zoneOffset(zone: string | undefined): number {
  if (!zone || zone.toUpperCase() === "Z") return 0;
  const digits = zone.replace(":", "");
  const minutes = Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5));
  return digits.startsWith("-") ? -minutes : minutes;
}

/** Reads ISO 8601 dates and date-times (UTC unless they carry an offset) and M/D/YYYY [h:mm[:ss] [AM|PM]]. */
export function parseDateText(text: string): Date | undefined {
  const s = text.trim();
  const n = (v: string | undefined) => (v === undefined ? 0 : Number(v));
  let m = ISO_DATE.exec(s);
  if (m)
    return validDate({
      year: n(m[1]),
      month: n(m[2]),
      day: n(m[3]),
      hour: 0,
      minute: 0,
      second: 0,
      millisecond: 0,
    });
  m = ISO_DATE_TIME.exec(s);
  if (m) {
    const millisecond = m[7] === undefined ? 0 : Number(m[7].padEnd(3, "0"));
    const parts = {
      year: n(m[1]),
      month: n(m[2]),
      day: n(m[3]),
      hour: n(m[4]),
      minute: n(m[5]),
      second: n(m[6]),
    };
    return validDate({ ...parts, millisecond }, zoneOffset(m[8]));
  }
  m = US_DATE.exec(s);
  if (m) {
    let hour = n(m[4]);
    if (m[7]) hour = (hour % 12) + (m[7].toUpperCase() === "PM" ? 12 : 0);
    return validDate({
      year: n(m[3]),
      month: n(m[1]),
      day: n(m[2]),
      hour,
      minute: n(m[5]),
      second: n(m[6]),
      millisecond: 0,
    });
  }
  return undefined;
}

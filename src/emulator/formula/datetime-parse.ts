/**
 * DATETIME_PARSE's reading of text with a moment.js-style format (English names; the tokens of
 * datetime-format.ts). Units the format leaves out take the current date above the largest one
 * given and their minimum below it, as moment does; the result is UTC unless the text has an offset.
 */
import { dateParts, validDate, zoneOffset } from "./datetime.js";

const MONTH_NAMES = "january|february|march|april|may|june|july|august|september|october|november|december";
const DAY_NAMES = "sunday|monday|tuesday|wednesday|thursday|friday|saturday";

type Unit = "year" | "shortYear" | "month" | "monthName" | "day" | "hour" | "minute" | "second" | "fraction";
type Capture = Unit | "meridiem" | "zone" | "unixSeconds" | "unixMs" | "ignored";

const TOKEN =
  /\[([^\]]*)\]|YYYY|YY|MMMM|MMM|MM|M|Do|DD|D|dddd|ddd|dd|HH|H|hh|h|kk|k|mm|m|ss|s|SSS|SS|S|A|a|ZZ|Z|X|x/g;

const PATTERNS: Record<string, [string, Capture]> = {
  YYYY: ["(\\d{4})", "year"],
  YY: ["(\\d{2})", "shortYear"],
  MMMM: [`(${MONTH_NAMES})`, "monthName"],
  MMM: [`(${MONTH_NAMES.replace(/(\w{3})\w*/g, "$1")})\\.?`, "monthName"],
  MM: ["(\\d{1,2})", "month"],
  M: ["(\\d{1,2})", "month"],
  Do: ["(\\d{1,2})(?:st|nd|rd|th)", "day"],
  DD: ["(\\d{1,2})", "day"],
  D: ["(\\d{1,2})", "day"],
  dddd: [`(${DAY_NAMES})`, "ignored"],
  ddd: [`(${DAY_NAMES.replace(/(\w{3})\w*/g, "$1")})`, "ignored"],
  dd: [`(${DAY_NAMES.replace(/(\w{2})\w*/g, "$1")})`, "ignored"],
  A: ["(am|pm)", "meridiem"],
  a: ["(am|pm)", "meridiem"],
  ZZ: ["(Z|[+-]\\d{2}:?\\d{2})", "zone"],
  Z: ["(Z|[+-]\\d{2}:?\\d{2})", "zone"],
  X: ["(-?\\d+(?:\\.\\d+)?)", "unixSeconds"],
  x: ["(-?\\d+)", "unixMs"],
};
for (const token of ["HH", "H", "hh", "h", "kk", "k"]) PATTERNS[token] = ["(\\d{1,2})", "hour"];
for (const token of ["mm", "m"]) PATTERNS[token] = ["(\\d{1,2})", "minute"];
for (const token of ["ss", "s"]) PATTERNS[token] = ["(\\d{1,2})", "second"];
for (const token of ["SSS", "SS", "S"]) PATTERNS[token] = ["(\\d{1,3})", "fraction"];

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The regex a format reads with, and what each of its groups holds. */
function compile(format: string): { re: RegExp; captures: Capture[] } {
  const captures: Capture[] = [];
  let source = "";
  let last = 0;
  for (const match of format.matchAll(TOKEN)) {
    source += escapeRegex(format.slice(last, match.index)).replace(/\s+/g, "\\s*");
    last = match.index + match[0].length;
    const pattern = match[1] === undefined ? PATTERNS[match[0]] : undefined;
    if (pattern) {
      source += pattern[0];
      captures.push(pattern[1]);
    } else {
      source += escapeRegex(match[1] ?? match[0]);
    }
  }
  source += escapeRegex(format.slice(last)).replace(/\s+/g, "\\s*");
  return { re: new RegExp(`^\\s*${source}\\s*$`, "i"), captures };
}

/** `text` read with `format`, or undefined when it does not fit; `now` fills the units left out. */
export function parseWithFormat(text: string, format: string, now: Date): Date | undefined {
  const { re, captures } = compile(format);
  const match = re.exec(text);
  if (!match) return undefined;
  const got = new Map<Capture, string>();
  captures.forEach((capture, i) => {
    got.set(capture, match[i + 1]!);
  });
  if (got.has("unixMs")) return new Date(Number(got.get("unixMs")));
  if (got.has("unixSeconds")) return new Date(Number(got.get("unixSeconds")) * 1000);
  const num = (unit: Unit) => (got.has(unit) ? Number(got.get(unit)) : undefined);
  const shortYear = num("shortYear");
  const year =
    num("year") ?? (shortYear === undefined ? undefined : shortYear + (shortYear > 68 ? 1900 : 2000));
  const monthName = got.get("monthName")?.slice(0, 3).toLowerCase();
  const month = monthName ? monthNumber(monthName) : num("month");
  const day = num("day");
  const today = dateParts(now);
  let hour = num("hour") ?? 0;
  const meridiem = got.get("meridiem")?.toLowerCase();
  if (meridiem) hour = (hour % 12) + (meridiem === "pm" ? 12 : 0);
  const fraction = got.get("fraction");
  return validDate(
    {
      year: year ?? today.year,
      month: month ?? (year === undefined ? today.month : 1),
      day: day ?? (month === undefined && year === undefined ? today.day : 1),
      hour: hour === 24 ? 0 : hour,
      minute: num("minute") ?? 0,
      second: num("second") ?? 0,
      millisecond: fraction === undefined ? 0 : Number(fraction.padEnd(3, "0")),
    },
    got.has("zone") ? zoneOffset(got.get("zone")) : 0,
  );
}

function monthNumber(shortName: string): number {
  return MONTH_NAMES.split("|").findIndex((name) => name.startsWith(shortName)) + 1;
}

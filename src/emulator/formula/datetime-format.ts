/**
 * moment.js-style format tokens, as DATETIME_FORMAT writes and DATETIME_PARSE reads them
 * (English names only): YYYY YY Q MMMM MMM MM M Do DDDD DDD DD D dddd ddd dd d w ww
 * HH H hh h kk k mm m ss s SSS SS S A a ZZ Z X x, [escaped text], and L LL LLL LLLL l ll lll llll LT LTS.
 */
import { type DateParts, dateParts, wallTime } from "./datetime.js";

const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

const LOCALIZED: Readonly<Record<string, string>> = {
  LT: "h:mm A",
  LTS: "h:mm:ss A",
  L: "MM/DD/YYYY",
  LL: "MMMM D, YYYY",
  LLL: "MMMM D, YYYY h:mm A",
  LLLL: "dddd, MMMM D, YYYY h:mm A",
  l: "M/D/YYYY",
  ll: "MMM D, YYYY",
  lll: "MMM D, YYYY h:mm A",
  llll: "ddd, MMM D, YYYY h:mm A",
};

const TOKEN =
  /\[([^\]]*)\]|LTS|LT|LLLL|LLL|LL|L|llll|lll|ll|l|YYYY|YY|Q|MMMM|MMM|MM|M|Do|DDDD|DDD|DD|D|dddd|ddd|dd|d|ww|w|HH|H|hh|h|kk|k|mm|m|ss|s|SSS|SS|S|A|a|ZZ|Z|X|x/g;

const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, "0");

function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  return `${n}${["th", "st", "nd", "rd"][n % 10] ?? "th"}`;
}

function offset(minutes: number, separator: string): string {
  return `${minutes < 0 ? "-" : "+"}${pad(Math.trunc(Math.abs(minutes) / 60))}${separator}${pad(Math.abs(minutes) % 60)}`;
}

/** Day of the year, 1-based. */
export function dayOfYear(p: DateParts): number {
  const midnight = wallTime({ year: p.year, month: p.month, day: p.day });
  return (midnight - wallTime({ year: p.year, month: 1, day: 1 })) / 86_400_000 + 1;
}

/** The week of the year, weeks starting on `firstDay` (0 = Sunday), week 1 holding January 1st. */
export function weekOfYear(p: DateParts, firstDay = 0): number {
  const jan1 = new Date(wallTime({ year: p.year, month: 1, day: 1 })).getUTCDay();
  const lead = (jan1 - firstDay + 7) % 7;
  return Math.floor((dayOfYear(p) - 1 + lead) / 7) + 1;
}

function tokenText(token: string, p: DateParts, date: Date): string {
  const hour12 = p.hour % 12 || 12;
  const table: Record<string, () => string> = {
    YYYY: () => String(p.year),
    YY: () => pad(p.year % 100),
    Q: () => String(Math.ceil(p.month / 3)),
    MMMM: () => MONTHS[p.month - 1]!,
    MMM: () => MONTHS[p.month - 1]!.slice(0, 3),
    MM: () => pad(p.month),
    M: () => String(p.month),
    Do: () => ordinal(p.day),
    DDDD: () => pad(dayOfYear(p), 3),
    DDD: () => String(dayOfYear(p)),
    DD: () => pad(p.day),
    D: () => String(p.day),
    dddd: () => DAYS[p.weekday]!,
    ddd: () => DAYS[p.weekday]!.slice(0, 3),
    dd: () => DAYS[p.weekday]!.slice(0, 2),
    d: () => String(p.weekday),
    ww: () => pad(weekOfYear(p)),
    w: () => String(weekOfYear(p)),
    HH: () => pad(p.hour),
    H: () => String(p.hour),
    hh: () => pad(hour12),
    h: () => String(hour12),
    kk: () => pad(p.hour || 24),
    k: () => String(p.hour || 24),
    mm: () => pad(p.minute),
    m: () => String(p.minute),
    ss: () => pad(p.second),
    s: () => String(p.second),
    SSS: () => pad(p.millisecond, 3),
    SS: () => pad(Math.floor(p.millisecond / 10)),
    S: () => String(Math.floor(p.millisecond / 100)),
    A: () => (p.hour < 12 ? "AM" : "PM"),
    a: () => (p.hour < 12 ? "am" : "pm"),
    ZZ: () => offset(p.offsetMinutes, ""),
    Z: () => offset(p.offsetMinutes, ":"),
    X: () => String(Math.floor(date.getTime() / 1000)),
    x: () => String(date.getTime()),
  };
  return table[token]!();
}

/** `date` written with `format`, on its wall clock in `timeZone`; throws RangeError for an unknown zone. */
export function formatDate(date: Date, format: string, timeZone = "UTC"): string {
  const parts = dateParts(date, timeZone);
  const write = (pattern: string): string =>
    pattern.replace(TOKEN, (token, escaped: string | undefined) => {
      if (escaped !== undefined) return escaped;
      const localized = LOCALIZED[token];
      return localized ? write(localized) : tokenText(token, parts, date);
    });
  return write(format);
}

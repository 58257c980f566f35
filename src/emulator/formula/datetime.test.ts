import { describe, expect, it } from "vitest";
import { addToDate, dateParts, diffDates, normalizeUnit, parseDateText, zoneOffset } from "./datetime.js";
import { formatDate } from "./datetime-format.js";
import { parseWithFormat } from "./datetime-parse.js";

const d = (iso: string) => new Date(iso);

describe("normalizeUnit (moment's unit names)", () => {
  it.each([
    ["days", "days"],
    ["day", "days"],
    ["Days", "days"],
    ["d", "days"],
    ["M", "months"],
    ["m", "minutes"],
    ["ms", "milliseconds"],
    ["millisecond", "milliseconds"],
    ["Q", "quarters"],
    ["y", "years"],
    ["w", "weeks"],
    ["fortnight", undefined],
    ["D", undefined],
  ])("%s → %s", (name, unit) => {
    expect(normalizeUnit(name)).toBe(unit);
  });
});

describe("addToDate and diffDates", () => {
  it("clamps month ends and rounds whole-day counts", () => {
    expect(addToDate(d("2023-01-31T00:00:00Z"), 1, "months").toISOString()).toBe("2023-02-28T00:00:00.000Z");
    expect(addToDate(d("2024-02-29T00:00:00Z"), 1, "years").toISOString()).toBe("2025-02-28T00:00:00.000Z");
    expect(addToDate(d("2024-01-01T00:00:00Z"), 1.6, "days").toISOString()).toBe("2024-01-03T00:00:00.000Z");
    expect(addToDate(d("2024-01-01T00:00:00Z"), -13, "months").toISOString()).toBe(
      "2022-12-01T00:00:00.000Z",
    );
  });

  it("truncates toward zero, months by moment's calendar rule", () => {
    expect(diffDates(d("2024-01-01T23:59:00Z"), d("2024-01-01T00:00:00Z"), "days")).toBe(0);
    expect(diffDates(d("2024-01-01T00:00:00Z"), d("2024-01-02T12:00:00Z"), "days")).toBe(-1);
    // Jan 31 + 1 month clamps to Feb 29, so that is one whole month, as in moment.
    expect(diffDates(d("2024-02-29T00:00:00Z"), d("2024-01-31T00:00:00Z"), "months")).toBe(1);
    expect(diffDates(d("2024-02-28T00:00:00Z"), d("2024-01-31T00:00:00Z"), "months")).toBe(0);
    expect(diffDates(d("2024-03-31T00:00:00Z"), d("2024-01-31T00:00:00Z"), "months")).toBe(2);
    expect(diffDates(d("2024-01-31T00:00:00Z"), d("2024-03-31T00:00:00Z"), "months")).toBe(-2);
    expect(diffDates(d("2026-06-01T00:00:00Z"), d("2024-07-01T00:00:00Z"), "years")).toBe(1);
  });
});

describe("parseDateText", () => {
  it.each([
    ["2024-01-05", "2024-01-05T00:00:00.000Z"],
    ["2024-01-05T09:30", "2024-01-05T09:30:00.000Z"],
    ["2024-01-05T09:30:15.5Z", "2024-01-05T09:30:15.500Z"],
    ["2024-01-05 09:30:15+02:00", "2024-01-05T07:30:15.000Z"],
    ["2024-01-05T09:30:15-0530", "2024-01-05T15:00:15.000Z"],
    ["1/5/2024", "2024-01-05T00:00:00.000Z"],
    ["12/31/2024 11:15 pm", "2024-12-31T23:15:00.000Z"],
  ])("%s → %s", (text, iso) => {
    expect(parseDateText(text)?.toISOString()).toBe(iso);
  });

  it.each(["", "soon", "2024-13-01", "2024-02-30", "2024-01-05T25:00", "05/01", "20240105"])(
    "refuses %j",
    (text) => {
      expect(parseDateText(text)).toBeUndefined();
    },
  );

  it("zoneOffset reads Z, ±hh:mm and ±hhmm", () => {
    expect([zoneOffset(undefined), zoneOffset("Z"), zoneOffset("+02:00"), zoneOffset("-0530")]).toEqual([
      0, 0, 120, -330,
    ]);
  });
});

describe("dateParts in a time zone", () => {
  it("gives the wall clock and offset, across daylight saving", () => {
    const winter = dateParts(d("2024-01-15T12:00:00Z"), "America/New_York");
    const summer = dateParts(d("2024-07-15T12:00:00Z"), "America/New_York");
    expect([winter.hour, winter.offsetMinutes]).toEqual([7, -300]);
    expect([summer.hour, summer.offsetMinutes]).toEqual([8, -240]);
    expect(() => dateParts(d("2024-01-15T12:00:00Z"), "Mars/Olympus")).toThrow(RangeError);
  });
});

describe("formatDate and parseWithFormat", () => {
  const date = d("2024-03-01T00:05:09.042Z");
  it.each([
    ["YYYY YY Q", "2024 24 1"],
    ["MMMM MMM MM M", "March Mar 03 3"],
    ["Do DD D DDDD DDD", "1st 01 1 061 61"],
    ["dddd ddd dd d", "Friday Fri Fr 5"],
    ["HH H hh h kk k", "00 0 12 12 24 24"],
    ["mm m ss s SSS SS S", "05 5 09 9 042 04 0"],
    ["A a", "AM am"],
    ["Z ZZ", "+00:00 +0000"],
    ["x", "1709251509042"],
    ["[YYYY] [at] h", "YYYY at 12"],
    ["L | l | ll | LT | LTS", "03/01/2024 | 3/1/2024 | Mar 1, 2024 | 12:05 AM | 12:05:09 AM"],
    ["LLLL", "Friday, March 1, 2024 12:05 AM"],
  ])("%s → %s", (format, text) => {
    expect(formatDate(date, format)).toBe(text);
  });

  it("ordinals: 11th, 12th, 13th, 21st, 22nd, 23rd", () => {
    const days = [11, 12, 13, 21, 22, 23].map((n) => formatDate(d(`2024-01-${n}T00:00:00Z`), "Do"));
    expect(days).toEqual(["11th", "12th", "13th", "21st", "22nd", "23rd"]);
  });

  it("parses what it formats, and refuses text that does not fit", () => {
    const now = d("2024-01-10T12:00:00Z");
    const format = "dddd, MMMM Do YYYY, h:mm:ss.SSS a";
    expect(parseWithFormat(formatDate(date, format), format, now)?.toISOString()).toBe(date.toISOString());
    expect(parseWithFormat("1970 and more", "YYYY", now)).toBeUndefined();
    expect(parseWithFormat("March 5", "YYYY-MM-DD", now)).toBeUndefined();
    expect(parseWithFormat("69", "YY", now)?.getUTCFullYear()).toBe(1969);
    expect(parseWithFormat("68", "YY", now)?.getUTCFullYear()).toBe(2068);
  });
});

import { describe, expect, it } from "vitest";
import { evaluateFormula, TEST_CONTEXT, TEST_RECORD } from "../testing.js";

describe("date functions (clock 2024-01-10T12:34:56Z, UTC)", () => {
  it.each([
    ["NOW()", "2024-01-10T12:34:56.000Z"],
    ["TODAY()", "2024-01-10T00:00:00.000Z"],
    ["DATEADD({Due}, 3, 'days')", "2024-01-08T00:00:00.000Z"],
    ["DATEADD({Due}, -1, 'weeks')", "2023-12-29T00:00:00.000Z"],
    ["DATEADD('2024-01-31', 1, 'months')", "2024-02-29T00:00:00.000Z"],
    ["DATEADD({Due}, 1, 'quarters')", "2024-04-05T00:00:00.000Z"],
    ["DATEADD({Due}, 2, 'years')", "2026-01-05T00:00:00.000Z"],
    ["DATEADD({Starts at}, 90, 'minutes')", "2024-01-05T11:00:00.000Z"],
    ["DATEADD({Starts at}, 1.5, 'hours')", "2024-01-05T11:00:00.000Z"],
    ["DATEADD({Due}, 1, 'M')", "2024-02-05T00:00:00.000Z"],
    ["DATEADD({Due}, 1, 'fortnights')", { error: "#ERROR!" }],
    ["DATEADD({Notes}, 1, 'days')", { error: "#ERROR!" }],
    ["DATEADD({Due}, 'x', 'days')", { error: "#ERROR!" }],
    ["DATETIME_DIFF(TODAY(), {Due}, 'days')", 5],
    ["DATETIME_DIFF({Due}, TODAY(), 'days')", -5],
    ["DATETIME_DIFF(NOW(), TODAY())", 45296],
    ["DATETIME_DIFF(NOW(), TODAY(), 'hours')", 12],
    ["DATETIME_DIFF(NOW(), TODAY(), 'h')", 12],
    ["DATETIME_DIFF('2024-03-15', '2024-01-10', 'months')", 2],
    ["DATETIME_DIFF('2024-03-09', '2024-01-10', 'months')", 1],
    ["DATETIME_DIFF('2025-01-10', '2024-01-10', 'years')", 1],
    ["DATETIME_DIFF('2024-07-01', '2024-01-01', 'quarters')", 2],
    ["DATETIME_DIFF({Notes}, TODAY(), 'days')", { error: "#ERROR!" }],
    ["DATETIME_FORMAT({Due}, 'M/D/YYYY')", "1/5/2024"],
    ["DATETIME_FORMAT({Starts at}, 'dddd, MMMM Do YYYY, h:mm a')", "Friday, January 5th 2024, 9:30 am"],
    ["DATETIME_FORMAT({Starts at}, 'YYYY-MM-DD HH:mm:ss.SSS Z')", "2024-01-05 09:30:00.000 +00:00"],
    ["DATETIME_FORMAT({Starts at}, '[Week] w, [Q]Q YY, ddd DDD')", "Week 1, Q1 24, Fri 5"],
    ["DATETIME_FORMAT({Starts at}, 'LL')", "January 5, 2024"],
    ["DATETIME_FORMAT({Starts at}, 'X')", "1704447000"],
    ["DATETIME_FORMAT({Starts at})", "2024-01-05T09:30:00.000Z"],
    ["DATETIME_FORMAT('soon', 'YYYY')", { error: "#ERROR!" }],
    ["DATETIME_PARSE('2024-03-05')", "2024-03-05T00:00:00.000Z"],
    ["DATETIME_PARSE('3/5/2024 2:05 PM')", "2024-03-05T14:05:00.000Z"],
    ["DATETIME_PARSE('5 March 2023 14:05', 'D MMMM YYYY HH:mm')", "2023-03-05T14:05:00.000Z"],
    ["DATETIME_PARSE('05.03.23', 'DD.MM.YY')", "2023-03-05T00:00:00.000Z"],
    ["DATETIME_PARSE('Mar 5th, 2023 10pm', 'MMM Do, YYYY ha')", "2023-03-05T22:00:00.000Z"],
    ["DATETIME_PARSE('2023-03-05 10:00 +02:00', 'YYYY-MM-DD HH:mm Z')", "2023-03-05T08:00:00.000Z"],
    ["DATETIME_PARSE('1704447000', 'X')", "2024-01-05T09:30:00.000Z"],
    ["DATETIME_PARSE('14:30', 'HH:mm')", "2024-01-10T14:30:00.000Z"],
    ["DATETIME_PARSE('March', 'MMMM')", "2024-03-01T00:00:00.000Z"],
    ["DATETIME_PARSE('2023-02-30', 'YYYY-MM-DD')", { error: "#ERROR!" }],
    ["DATETIME_PARSE('not a date')", { error: "#ERROR!" }],
    ["DATESTR({Starts at})", "2024-01-05"],
    ["TIMESTR({Starts at})", "09:30:00"],
    ["IS_SAME({Due}, '2024-01-05')", true],
    ["IS_SAME({Due}, {Starts at})", false],
    ["IS_SAME({Due}, {Starts at}, 'day')", true],
    ["IS_SAME({Due}, TODAY(), 'month')", true],
    ["IS_SAME({Due}, TODAY(), 'week')", false],
    ["IS_SAME('2024-01-07', TODAY(), 'week')", true],
    ["IS_SAME({Due}, '2024-12-31', 'years')", true],
    ["IS_SAME({Due}, '2024-04-01', 'quarter')", false],
    ["IS_SAME({Starts at}, '2024-01-05T09:30:59Z', 'minute')", true],
    ["IS_BEFORE({Due}, TODAY())", true],
    ["IS_BEFORE({Due}, '2024-01-05')", false],
    ["IS_AFTER({Due}, '2024-01-04')", true],
    ["IS_AFTER({Notes}, TODAY())", { error: "#ERROR!" }],
    ["YEAR({Starts at})", 2024],
    ["MONTH({Starts at})", 1],
    ["DAY({Starts at})", 5],
    ["HOUR({Starts at})", 9],
    ["MINUTE({Starts at})", 30],
    ["SECOND(NOW())", 56],
    ["WEEKDAY({Due})", 5],
    ["WEEKDAY({Due}, 'Monday')", 4],
    ["WEEKDAY({Due}, 'Tuesday')", { error: "#ERROR!" }],
    ["WEEKNUM('2024-01-07')", 2],
    ["WEEKNUM('2024-01-07', 'Monday')", 1],
    ["YEAR('soon')", { error: "#ERROR!" }],
  ])("%s → %j", (source, value) => {
    expect(evaluateFormula(source)).toEqual(value);
  });

  it("reads wall-clock parts in the context's time zone", () => {
    const tokyo = { ...TEST_CONTEXT, timeZone: "Asia/Tokyo" };
    expect(evaluateFormula("HOUR({Starts at})", TEST_RECORD, tokyo)).toBe(18);
    expect(evaluateFormula("DATETIME_FORMAT({Starts at}, 'HH:mm Z')", TEST_RECORD, tokyo)).toBe(
      "18:30 +09:00",
    );
    const lateUtc = { now: new Date("2024-01-10T20:00:00.000Z"), timeZone: "Asia/Tokyo" };
    expect(evaluateFormula("TODAY()", TEST_RECORD, lateUtc)).toBe("2024-01-11T00:00:00.000Z");
  });

  it("an unknown time zone makes zone-dependent calls errors, not guesses", () => {
    const nowhere = { ...TEST_CONTEXT, timeZone: "Mars/Olympus" };
    expect(evaluateFormula("HOUR(NOW())", TEST_RECORD, nowhere)).toEqual({ error: "#ERROR!" });
    expect(evaluateFormula("DATETIME_FORMAT(NOW(), 'HH')", TEST_RECORD, nowhere)).toEqual({
      error: "#ERROR!",
    });
  });
});

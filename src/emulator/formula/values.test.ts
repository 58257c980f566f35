import { describe, expect, it } from "vitest";
import type { FormulaField } from "./types.js";
import {
  cellValue,
  compareValues,
  ErrorValue,
  isBlank,
  isTruthy,
  toApiValue,
  toDate,
  toNumber,
  toText,
  type Value,
} from "./values.js";

const d = (iso: string) => new Date(iso);
const field = (type: string, options?: Record<string, unknown>): FormulaField => ({
  id: "fld",
  name: "F",
  type,
  options,
});

describe("isTruthy (what passes a filter)", () => {
  it.each<[Value, boolean]>([
    [null, false],
    ["", false],
    [0, false],
    [Number.NaN, false],
    [false, false],
    [[], false],
    [new ErrorValue("x"), false],
    ["0", true],
    ["a", true],
    [-1, true],
    [0.5, true],
    [true, true],
    [[""], true],
    [d("2024-01-01"), true],
  ])("%j → %s", (value, truth) => {
    expect(isTruthy(value)).toBe(truth);
  });
});

describe("isBlank", () => {
  it.each<[Value, boolean]>([
    [null, true],
    ["", true],
    [[], true],
    [0, false],
    [false, false],
    [" ", false],
  ])("%j → %s", (value, blank) => {
    expect(isBlank(value)).toBe(blank);
  });
});

describe("toText", () => {
  it.each<[Value, string]>([
    [null, ""],
    ["a", "a"],
    [1.5, "1.5"],
    [true, "1"],
    [false, "0"],
    [d("2024-01-05"), "2024-01-05T00:00:00.000Z"],
    [["a", "b"], "a, b"],
    [[1, ["x", null]], "1, x, "],
    [new ErrorValue("x"), "#ERROR!"],
  ])("%j → %j", (value, text) => {
    expect(toText(value)).toBe(text);
  });
});

describe("toNumber", () => {
  it.each<[Value, number]>([
    [null, 0],
    ["", 0],
    ["  ", 0],
    [" 12 ", 12],
    ["-3.5", -3.5],
    ["1e3", 1000],
    ["12abc", Number.NaN],
    [true, 1],
    [false, 0],
    [[7], 7],
    [["1", "2"], Number.NaN],
    [d("2024-01-01"), Number.NaN],
  ])("%j → %d", (value, n) => {
    expect(toNumber(value)).toBe(n);
  });
});

describe("toDate", () => {
  it("reads dates, ISO text and one-element lists; nothing else", () => {
    expect(toDate("2024-01-05")?.toISOString()).toBe("2024-01-05T00:00:00.000Z");
    expect(toDate(["2024-01-05T10:00:00Z"])?.toISOString()).toBe("2024-01-05T10:00:00.000Z");
    expect(toDate(d("2024-01-05"))?.toISOString()).toBe("2024-01-05T00:00:00.000Z");
    expect(toDate("soon")).toBeUndefined();
    expect(toDate(null)).toBeUndefined();
    expect(toDate(20240105)).toBeUndefined();
    expect(toDate(new Date(Number.NaN))).toBeUndefined();
  });
});

describe("compareValues", () => {
  it.each<[string, Value, Value, number | undefined]>([
    ["numbers", 2, 10, -1],
    ["equal numbers", 3, 3, 0],
    ["blank as 0 against a number", null, 0, 0],
    ["blank against a positive number", null, 1, -1],
    ["false as 0", false, 0, 0],
    ["true as 1", true, 1, 0],
    ["numeric text against a number", "10", 9, 1],
    ["empty text as 0 against a number", "", 0, 0],
    ["other text against a number, as text", "abc", 1, 1],
    ["text, case-sensitive", "a", "A", 1],
    ["equal text", "x", "x", 0],
    ["blank against empty text", null, "", 0],
    ["blank against blank", null, null, 0],
    ["blank against text", null, "a", -1],
    ["a list as its joined text", ["a", "b"], "a, b", 0],
    ["an empty list as blank", [], null, 0],
    ["a one-number list against a number", [5], 5, 0],
    ["dates as instants", d("2024-01-01"), d("2024-01-02"), -1],
    ["a date against ISO text", d("2024-01-05"), "2024-01-05", 0],
    ["a date against later text", d("2024-01-05"), "2024-02-01T00:00:00Z", -1],
    ["a date against unreadable text", d("2024-01-05"), "soon", undefined],
    ["a date against blank", d("2024-01-05"), null, undefined],
  ])("%s", (_why, a, b, order) => {
    expect(compareValues(a, b)).toBe(order);
  });
});

describe("toApiValue", () => {
  it("shows dates as ISO text, errors and special numbers as Airtable's objects", () => {
    expect(toApiValue(d("2024-01-05"))).toBe("2024-01-05T00:00:00.000Z");
    expect(toApiValue(new ErrorValue("x"))).toEqual({ error: "#ERROR!" });
    expect(toApiValue(Number.NaN)).toEqual({ specialValue: "NaN" });
    expect(toApiValue(Number.POSITIVE_INFINITY)).toEqual({ specialValue: "Infinity" });
    expect(toApiValue(Number.NEGATIVE_INFINITY)).toEqual({ specialValue: "-Infinity" });
    expect(toApiValue(["a", 1, true, null])).toEqual(["a", 1, true, null]);
  });
});

describe("cellValue (a Web API cell inside a formula)", () => {
  it.each<[string, FormulaField, unknown, Value]>([
    ["an absent cell is blank", field("singleLineText"), undefined, null],
    ["null is blank", field("number"), null, null],
    ["text stays text", field("singleLineText"), "hi", "hi"],
    ["a number stays a number", field("number"), 4, 4],
    ["a checked checkbox is true", field("checkbox"), true, true],
    ["an unchecked checkbox is blank", field("checkbox"), false, null],
    ["a date is a date at UTC midnight", field("date"), "2024-01-05", d("2024-01-05T00:00:00Z")],
    ["a date-time is an instant", field("dateTime"), "2024-01-05T09:30:00.000Z", d("2024-01-05T09:30:00Z")],
    ["created time is a date", field("createdTime"), "2024-01-05T09:30:00.000Z", d("2024-01-05T09:30:00Z")],
    ["an unreadable date stays text", field("date"), "someday", "someday"],
    ["multiple selects are a list", field("multipleSelects"), ["a", "b"], ["a", "b"]],
    [
      "a collaborator is its name",
      field("singleCollaborator"),
      { id: "usr", email: "e", name: "Ada" },
      "Ada",
    ],
    [
      "collaborators are their names",
      field("multipleCollaborators"),
      [{ name: "A" }, { name: "B" }],
      ["A", "B"],
    ],
    ["created-by is a name", field("createdBy"), { id: "usr", name: "Ada" }, "Ada"],
    [
      "an attachment is filename (url)",
      field("multipleAttachments"),
      [{ id: "att", url: "https://x/a.png", filename: "a.png" }],
      ["a.png (https://x/a.png)"],
    ],
    ["a barcode is its text", field("barcode"), { text: "123", type: "ean" }, "123"],
    ["a button is its label", field("button"), { label: "Go", url: null }, "Go"],
    [
      "a lookup of dates is a list of dates",
      field("multipleLookupValues", { result: { type: "date" } }),
      ["2024-01-05"],
      [d("2024-01-05")],
    ],
    [
      "a formula of dateTime is a date",
      field("formula", { result: { type: "dateTime" } }),
      "2024-01-05T01:00:00.000Z",
      d("2024-01-05T01:00:00Z"),
    ],
    ["a formula error is an error", field("formula"), { error: "#ERROR!" }, new ErrorValue("#ERROR!")],
    ["a formula NaN is NaN", field("formula"), { specialValue: "NaN" }, Number.NaN],
    ["an unknown object is its JSON", field("somethingNew"), { a: 1 }, '{"a":1}'],
  ])("%s", (_why, f, raw, value) => {
    expect(cellValue(f, raw)).toEqual(value);
  });
});

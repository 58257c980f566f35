import { describe, expect, it } from "vitest";
import { evaluateFormula } from "../testing.js";

describe("record and list functions", () => {
  it.each([
    ["RECORD_ID()", "recTestRecord0001"],
    ["CREATED_TIME()", "2024-01-02T03:04:05.000Z"],
    ["IS_BEFORE(CREATED_TIME(), {Due})", true],
    ["ARRAYJOIN({Tags})", "Backend, Urgent"],
    ["ARRAYJOIN({Tags}, ' | ')", "Backend | Urgent"],
    ["ARRAYJOIN({Notes}, ';')", ""],
    ["ARRAYJOIN({Name})", "Feature 12"],
    ["ARRAYJOIN({Release dates}, ' ')", "2024-02-01T00:00:00.000Z 2024-03-01T00:00:00.000Z"],
    ["ARRAYUNIQUE(ARRAYFLATTEN({Tags}))", ["Backend", "Urgent"]],
    ["ARRAYCOMPACT({Tags})", ["Backend", "Urgent"]],
    ["ARRAYFLATTEN({Scores})", [2, 5, 8]],
    ["ARRAYSLICE({Scores}, 2)", [5, 8]],
    ["ARRAYSLICE({Scores}, 1, 2)", [2, 5]],
    ["ARRAYSLICE({Scores}, -1)", [8]],
    ["ARRAYSLICE({Scores}, 'x')", { error: "#ERROR!" }],
    ["{Files}", ["a.png (https://files.example.com/a.png)"]],
  ])("%s → %j", (source, value) => {
    expect(evaluateFormula(source)).toEqual(value);
  });

  it("ARRAYUNIQUE keeps the first of equal values and tells 1 from '1'", () => {
    const record = { id: "rec1", createdTime: "2024-01-01T00:00:00.000Z", fields: { Scores: [1, 1, 2] } };
    expect(evaluateFormula("ARRAYUNIQUE({Scores})", record)).toEqual([1, 2]);
    expect(evaluateFormula("ARRAYCOMPACT(ARRAYUNIQUE({Tags}))", record)).toEqual([]);
  });
});

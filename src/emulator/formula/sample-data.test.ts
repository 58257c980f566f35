import { describe, expect, it } from "vitest";
import { createSampleData } from "../sample-data.js";
import { compileFormula } from "./index.js";

// The engine over the emulator's own seeded table: every field type the sample data has compiles and
// filters the way a plain reading of the cells says it should.
const features = createSampleData()
  .bases.flatMap((base) => base.tables)
  .find((table) => table.name === "Features")!;
const context = { now: new Date("2024-03-01T00:00:00.000Z") };
const passing = (formula: string) =>
  features.records.filter((r) => compileFormula(formula, features.fields).matches(r, context));

describe("filterByFormula over the sample Features table", () => {
  it("a single select by name", () => {
    const shipped = features.records.filter((r) => r.fields.Status === "Shipped");
    expect(shipped.length).toBeGreaterThan(0);
    expect(passing("{Status} = 'Shipped'")).toEqual(shipped);
  });

  it("a checkbox, a number and a date together", () => {
    const expected = features.records.filter(
      (r) =>
        r.fields.Shipped === true &&
        Number(r.fields.Priority ?? 0) >= 2 &&
        typeof r.fields.Due === "string" &&
        r.fields.Due < "2024-03-01",
    );
    expect(expected.length).toBeGreaterThan(0);
    expect(passing("AND({Shipped}, {Priority} >= 2, IS_BEFORE({Due}, TODAY()))")).toEqual(expected);
  });

  it("blank cells: empty notes", () => {
    const empty = features.records.filter((r) => r.fields.Notes === undefined);
    expect(empty.length).toBeGreaterThan(0);
    expect(passing("{Notes} = BLANK()")).toEqual(empty);
    expect(passing("NOT({Notes})")).toEqual(empty);
  });

  it("every field of the table can be referenced", () => {
    for (const field of features.fields) {
      expect(() => compileFormula(`LEN({${field.name}} & "") >= 0`, features.fields)).not.toThrow();
    }
    const all = `AND(${features.fields.map((f) => `LEN({${f.name}} & "") >= 0`).join(", ")})`;
    expect(passing(all)).toEqual(features.records);
  });
});

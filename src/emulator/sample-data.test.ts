import { describe, expect, it } from "vitest";
import { createSampleData, findTable, idFactory } from "./sample-data.js";

describe("sample data", () => {
  it("is deterministic", () => {
    expect(JSON.stringify(createSampleData().bases)).toBe(JSON.stringify(createSampleData().bases));
    expect(createSampleData().user).toEqual(createSampleData().user);
    expect(createSampleData(1).user.id).not.toBe(createSampleData(2).user.id);
  });

  it("uses Airtable-style ids everywhere", () => {
    const data = createSampleData();
    expect(data.user.id).toMatch(/^usr[A-Za-z0-9]{14}$/);
    expect(data.user.email).toContain("@");
    const ids: string[] = [];
    for (const base of data.bases) {
      expect(base.id).toMatch(/^app[A-Za-z0-9]{14}$/);
      ids.push(base.id);
      for (const table of base.tables) {
        expect(table.id).toMatch(/^tbl[A-Za-z0-9]{14}$/);
        expect(table.fields[0]?.id).toBe(table.primaryFieldId);
        for (const f of table.fields) expect(f.id).toMatch(/^fld[A-Za-z0-9]{14}$/);
        for (const v of table.views) expect(v.id).toMatch(/^viw[A-Za-z0-9]{14}$/);
        for (const r of table.records) {
          expect(r.id).toMatch(/^rec[A-Za-z0-9]{14}$/);
          expect(Number.isNaN(Date.parse(r.createdTime))).toBe(false);
        }
        ids.push(table.id, ...table.fields.map((f) => f.id), ...table.records.map((r) => r.id));
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("has two or more bases, several field types, and a table that needs pagination", () => {
    const data = createSampleData();
    expect(data.bases.length).toBeGreaterThanOrEqual(2);
    const types = new Set(data.bases.flatMap((b) => b.tables.flatMap((t) => t.fields.map((f) => f.type))));
    expect(types.size).toBeGreaterThanOrEqual(6);
    const biggest = Math.max(...data.bases.flatMap((b) => b.tables.map((t) => t.records.length)));
    expect(biggest).toBeGreaterThan(200);
  });

  it("links point at real records of the linked table", () => {
    const base = createSampleData().bases[0]!;
    const features = findTable(base, "Features")!;
    const releases = findTable(base, "Releases")!;
    const link = features.fields.find((f) => f.type === "multipleRecordLinks")!;
    expect(link.options?.linkedTableId).toBe(releases.id);
    const target = (features.records[0]!.fields.Release as string[])[0];
    expect(releases.records.map((r) => r.id)).toContain(target);
  });

  it("finds tables by id or name", () => {
    const base = createSampleData().bases[1]!;
    const t = base.tables[0]!;
    expect(findTable(base, t.id)).toBe(t);
    expect(findTable(base, t.name)).toBe(t);
    expect(findTable(base, "nope")).toBeUndefined();
  });

  it("idFactory makes 17-character ids", () => {
    expect(idFactory(1)("rec")).toMatch(/^rec[A-Za-z0-9]{14}$/);
  });
});

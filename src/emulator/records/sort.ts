/**
 * The order of `sort[]` and of a view's sort: per field type (select choices in their defined
 * order, numbers by value, text by locale), empty cells first when ascending, then table order.
 */
import type { SampleField, SampleRecord } from "../sample-data.js";

export interface SortKey {
  field: SampleField;
  direction: "asc" | "desc";
}

const NUMERIC = new Set(["number", "currency", "percent", "duration", "rating", "autoNumber", "count"]);

function choiceIndex(field: SampleField, name: unknown): number {
  const choices = Array.isArray(field.options?.choices) ? field.options.choices : [];
  return choices.findIndex(
    (c: unknown) => typeof c === "object" && c !== null && "name" in c && c.name === name,
  );
}

/** A value's rank inside its field's type: a number or a string to compare. */
function rank(field: SampleField, value: unknown): number | string {
  if (field.type === "singleSelect") return choiceIndex(field, value);
  if (field.type === "multipleSelects" && Array.isArray(value)) return choiceIndex(field, value[0]);
  if (NUMERIC.has(field.type) && typeof value === "number") return value;
  if (field.type === "checkbox") return value === true ? 1 : 0;
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

function compareValues(field: SampleField, a: unknown, b: unknown): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? -1 : 1;
  const [x, y] = [rank(field, a), rank(field, b)];
  if (typeof x === "number" && typeof y === "number") return x - y;
  return String(x).localeCompare(String(y), "en");
}

/** The records in sort order (a new array; records that tie keep their order). */
export function sortRecords(records: readonly SampleRecord[], keys: readonly SortKey[]): SampleRecord[] {
  if (keys.length === 0) return [...records];
  return records
    .map((record, index) => ({ record, index }))
    .sort((a, b) => {
      for (const { field, direction } of keys) {
        const order = compareValues(field, a.record.fields[field.name], b.record.fields[field.name]);
        if (order !== 0) return direction === "asc" ? order : -order;
      }
      return a.index - b.index;
    })
    .map(({ record }) => record);
}

/**
 * What a seed record's cell may hold for its field's type, in the shape Airtable's records API
 * returns it (cellFormat json). Types the emulator does not model closely take any JSON.
 */
import type { SampleBase, SampleField } from "./sample-data.js";

const TEXT = new Set(["singleLineText", "multilineText", "richText", "email", "url", "phoneNumber"]);
const NUMBER = new Set(["number", "percent", "currency", "duration", "autoNumber", "count"]);

function choiceNames(field: SampleField): string[] {
  const choices = field.options?.choices;
  if (!Array.isArray(choices)) return [];
  return choices.flatMap((c: unknown) =>
    typeof c === "object" && c !== null && "name" in c && typeof c.name === "string" ? [c.name] : [],
  );
}

function linkProblem(field: SampleField, value: unknown, base: SampleBase): string | undefined {
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    return "a link field holds an array of record ids";
  }
  const linked = base.tables.find((t) => t.id === field.options?.linkedTableId);
  const missing = value.find((id) => !linked?.records.some((r) => r.id === id));
  return missing === undefined
    ? undefined
    : `no record ${missing} in the linked table ${linked?.name ?? "(none)"}; give that record this id`;
}

function selectProblem(field: SampleField, value: unknown): string | undefined {
  const names = choiceNames(field);
  const values = field.type === "singleSelect" ? [value] : value;
  if (!Array.isArray(values) || !values.every((v) => typeof v === "string")) {
    return field.type === "singleSelect"
      ? "a single select holds a choice name"
      : "a multiple select holds an array of choice names";
  }
  const unknown = values.find((v) => !names.includes(v));
  return unknown === undefined
    ? undefined
    : `${JSON.stringify(unknown)} is not a choice (choices: ${names.join(", ")})`;
}

/** Why `value` cannot be this field's cell, or undefined when it can. `null` means empty. */
export function cellProblem(field: SampleField, value: unknown, base: SampleBase): string | undefined {
  if (value === null) return undefined;
  if (TEXT.has(field.type))
    return typeof value === "string" ? undefined : `a ${field.type} field holds a string`;
  if (NUMBER.has(field.type))
    return typeof value === "number" && Number.isFinite(value)
      ? undefined
      : `a ${field.type} field holds a number`;
  switch (field.type) {
    case "checkbox":
      return typeof value === "boolean" ? undefined : "a checkbox holds true or false";
    case "rating": {
      const max = typeof field.options?.max === "number" ? field.options.max : 10;
      return Number.isInteger(value) && typeof value === "number" && value >= 1 && value <= max
        ? undefined
        : `a rating is a whole number from 1 to ${max}`;
    }
    case "date":
      return typeof value === "string" && /^\d{4}-\d{2}-\d{2}$/.test(value)
        ? undefined
        : "a date is YYYY-MM-DD";
    case "dateTime":
      return typeof value === "string" && !Number.isNaN(Date.parse(value)) && value.includes("T")
        ? undefined
        : "a dateTime is an ISO 8601 time such as 2024-01-15T09:00:00.000Z";
    case "singleSelect":
    case "multipleSelects":
      return selectProblem(field, value);
    case "multipleRecordLinks":
      return linkProblem(field, value, base);
    default:
      return undefined;
  }
}

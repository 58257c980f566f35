/**
 * A record's cells in and out: fields named by name or id on the way in, by name (or with
 * returnFieldsByFieldId by id) on the way out, empty cells never returned. Records store their
 * cells by field name, as the sample data does.
 */
import type { RecordSnapshot } from "../changes.js";
import type { SampleField, SampleRecord, SampleTable } from "../sample-data.js";
import { unknownFieldName } from "./errors.js";
import { type CellContext, type CellResult, COMPUTED_TYPES, writeCell } from "./field-values.js";

/** A field by id, else by name, as the record endpoints accept either. */
export function findField(table: SampleTable, key: string): SampleField | undefined {
  return table.fields.find((f) => f.id === key) ?? table.fields.find((f) => f.name === key);
}

/** The cells a replace keeps: the computed ones, which no write can set. */
export function computedCells(table: SampleTable, record: SampleRecord): Record<string, unknown> {
  return Object.fromEntries(
    table.fields
      .filter((f) => COMPUTED_TYPES.has(f.type) && record.fields[f.name] !== undefined)
      .map((f) => [f.name, record.fields[f.name]]),
  );
}

/**
 * `start` with the request's cells written over it (a new object), or the first error: an
 * unknown field, or a value its field cannot take.
 */
export function writeFields(
  table: SampleTable,
  input: Record<string, unknown>,
  start: Record<string, unknown>,
  context: CellContext,
): { ok: true; fields: Record<string, unknown> } | Extract<CellResult, { ok: false }> {
  const fields = { ...start };
  for (const [key, value] of Object.entries(input)) {
    const field = findField(table, key);
    if (!field) return { ok: false, error: unknownFieldName(key) };
    const result = writeCell(field, value, context);
    if (!result.ok) return result;
    if (result.value === undefined) delete fields[field.name];
    else fields[field.name] = result.value;
  }
  return { ok: true, fields };
}

/** How a record is answered. */
export interface RecordView {
  byFieldId: boolean;
  /** Only these fields (undefined: all). */
  only?: ReadonlySet<SampleField> | undefined;
  /** Converts a stored value (cellFormat=string); the JSON value when absent. */
  format?: ((field: SampleField, value: unknown) => unknown) | undefined;
}

/** A record as the Web API returns it: `{id, createdTime, fields}`, empty cells left out. */
export function recordJson(table: SampleTable, record: SampleRecord, view: RecordView) {
  const fields: Record<string, unknown> = {};
  for (const field of table.fields) {
    const value = record.fields[field.name];
    if (value === undefined || (view.only && !view.only.has(field))) continue;
    const out = view.format ? view.format(field, value) : value;
    if (out === undefined || out === "") continue;
    fields[view.byFieldId ? field.id : field.name] = out;
  }
  return { id: record.id, createdTime: record.createdTime, fields };
}

/** The record by field id, as change listeners (webhook payloads) want it. */
export function snapshot(table: SampleTable, record: SampleRecord): RecordSnapshot {
  return {
    id: record.id,
    createdTime: record.createdTime,
    cellValuesByFieldId: recordJson(table, record, { byFieldId: true }).fields,
  };
}

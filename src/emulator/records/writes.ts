/**
 * Record writes on a table: create, update (merge), replace, upsert and delete. Every request is
 * checked whole before anything changes (one bad cell fails it all, as on Airtable), then applied
 * and reported on the change feed.
 */
import type { BaseChange, ChangeSource } from "../changes.js";
import type { SampleBase, SampleField, SampleRecord, SampleTable } from "../sample-data.js";
import { computedCells, findField, snapshot, writeFields } from "./cells.js";
import { invalidRequest, type Outcome, rowDoesNotExist, unknownFieldName } from "./errors.js";
import { addPendingChoices, type CellContext, COMPUTED_TYPES, writeCell } from "./field-values.js";
import { newId } from "./ids.js";
import { dropLinksTo, syncInverseLinks } from "./links.js";

/** Where a write happens, and who makes it. */
export interface WriteTarget {
  base: SampleBase;
  table: SampleTable;
  typecast: boolean;
  /** Epoch ms, for createdTime. */
  now: number;
  source: ChangeSource;
  emit: (change: BaseChange, source: ChangeSource) => void;
}

/** One checked change, ready to apply: a new record's cells, or an existing record's new cells. */
type Step = { record: SampleRecord | undefined; fields: Record<string, unknown> };

function cellContext(target: WriteTarget): CellContext {
  return {
    typecast: target.typecast,
    canCreateChoices: target.base.permissionLevel === "create",
    base: target.base,
    pendingChoices: new Map(),
  };
}

/** A new record's cells start with its computed createdTime fields. */
function createdCells(table: SampleTable, createdTime: string): Record<string, unknown> {
  return Object.fromEntries(
    table.fields.filter((f) => f.type === "createdTime").map((f) => [f.name, createdTime]),
  );
}

/** Applies checked steps: schema first (new choices), then records; reports each kind once. */
function apply(target: WriteTarget, steps: Step[], context: CellContext): SampleRecord[] {
  const { base, table, source, emit } = target;
  for (const field of addPendingChoices(context.pendingChoices)) {
    emit({ kind: "field.changed", baseId: base.id, tableId: table.id, fieldId: field.id }, source);
  }
  const created: SampleRecord[] = [];
  const changes: { before: ReturnType<typeof snapshot>; after: ReturnType<typeof snapshot> }[] = [];
  const written: { record: SampleRecord; before: Record<string, unknown> }[] = [];
  const results = steps.map(({ record, fields }) => {
    if (record) {
      const before = snapshot(table, record);
      written.push({ record, before: record.fields });
      record.fields = fields;
      const after = snapshot(table, record);
      if (JSON.stringify(before) !== JSON.stringify(after)) changes.push({ before, after });
      return record;
    }
    const createdTime = new Date(target.now).toISOString();
    const fresh = {
      id: newId("rec"),
      createdTime,
      fields: { ...fields, ...createdCells(table, createdTime) },
    };
    table.records.push(fresh);
    created.push(fresh);
    written.push({ record: fresh, before: {} });
    return fresh;
  });
  if (created.length > 0)
    emit(
      {
        kind: "records.created",
        baseId: base.id,
        tableId: table.id,
        records: created.map((r) => snapshot(table, r)),
      },
      source,
    );
  if (changes.length > 0)
    emit({ kind: "records.changed", baseId: base.id, tableId: table.id, changes }, source);
  syncInverseLinks(base, table, written, source, emit);
  return results;
}

/** Creates records from their cells (each a `fields` object). */
export function createRecords(
  target: WriteTarget,
  entries: Record<string, unknown>[],
): Outcome<SampleRecord[]> {
  const context = cellContext(target);
  const steps: Step[] = [];
  for (const input of entries) {
    const step = createStep(target.table, input, context);
    if (!step.ok) return step;
    steps.push(step.value);
  }
  return { ok: true, value: apply(target, steps, context) };
}

/** An update's cells: merged over the record's (PATCH), or over its computed cells only (PUT). */
function updateStep(
  target: WriteTarget,
  record: SampleRecord,
  input: Record<string, unknown>,
  replace: boolean,
  context: CellContext,
): Outcome<Step> {
  const start = replace ? computedCells(target.table, record) : record.fields;
  const result = writeFields(target.table, input, start, context);
  return result.ok ? { ok: true, value: { record, fields: result.fields } } : result;
}

/** Updates records by id; an id not in the table is ROW_DOES_NOT_EXIST. */
export function updateRecords(
  target: WriteTarget,
  entries: { id: string; fields: Record<string, unknown> }[],
  replace: boolean,
): Outcome<SampleRecord[]> {
  const context = cellContext(target);
  const steps: Step[] = [];
  for (const { id, fields } of entries) {
    const record = target.table.records.find((r) => r.id === id);
    if (!record) return { ok: false, error: rowDoesNotExist(id) };
    const step = updateStep(target, record, fields, replace, context);
    if (!step.ok) return step;
    steps.push(step.value);
  }
  return { ok: true, value: apply(target, steps, context) };
}

/** Deletes records by id, all or none. */
export function deleteRecords(target: WriteTarget, ids: string[]): Outcome<string[]> {
  const { table, base, source } = target;
  const missing = ids.find((id) => !table.records.some((r) => r.id === id));
  if (missing) return { ok: false, error: rowDoesNotExist(missing) };
  const gone = new Set(ids);
  table.records.splice(0, table.records.length, ...table.records.filter((r) => !gone.has(r.id)));
  target.emit(
    { kind: "records.destroyed", baseId: base.id, tableId: table.id, recordIds: [...gone] },
    source,
  );
  dropLinksTo(base, table, gone, source, target.emit);
  return { ok: true, value: [...gone] };
}

/** The fields named in fieldsToMergeOn; computed or unknown ones are refused. */
function mergeFields(table: SampleTable, names: string[]): Outcome<SampleField[]> {
  const fields: SampleField[] = [];
  for (const name of names) {
    const field = findField(table, name);
    if (!field) return { ok: false, error: unknownFieldName(name) };
    if (COMPUTED_TYPES.has(field.type))
      return {
        ok: false,
        error: invalidRequest(`fieldsToMergeOn cannot use the computed field ${JSON.stringify(field.name)}.`),
      };
    fields.push(field);
  }
  return { ok: true, value: fields };
}

/** The one record whose merge-field values equal the entry's (undefined: create one). */
function upsertMatch(
  target: WriteTarget,
  merge: SampleField[],
  input: Record<string, unknown>,
  context: CellContext,
): Outcome<SampleRecord | undefined> {
  const wanted: string[] = [];
  for (const field of merge) {
    const key = field.id in input ? field.id : field.name;
    if (!(key in input))
      return {
        ok: false,
        error: invalidRequest(
          `Each record must have a value for ${JSON.stringify(field.name)}, a field in fieldsToMergeOn.`,
        ),
      };
    const cell = writeCell(field, input[key], context);
    if (!cell.ok) return cell;
    wanted.push(JSON.stringify(cell.value ?? null));
  }
  const matches = target.table.records.filter((r) =>
    merge.every((f, i) => JSON.stringify(r.fields[f.name] ?? null) === wanted[i]),
  );
  if (matches.length > 1)
    return {
      ok: false,
      error: invalidRequest(
        "More than one record matches the fieldsToMergeOn values of a record in the request.",
      ),
    };
  return { ok: true, value: matches[0] };
}

/** performUpsert: each entry updates its id's record or its one match, or creates a record. */
export function upsertRecords(
  target: WriteTarget,
  entries: { id?: string | undefined; fields: Record<string, unknown> }[],
  mergeOn: string[],
  replace: boolean,
): Outcome<{ records: SampleRecord[]; created: string[]; updated: string[] }> {
  const merge = mergeFields(target.table, mergeOn);
  if (!merge.ok) return merge;
  const context = cellContext(target);
  const steps: Step[] = [];
  for (const { id, fields } of entries) {
    const found =
      id === undefined ? upsertMatch(target, merge.value, fields, context) : byId(target.table, id);
    if (!found.ok) return found;
    const step = found.value
      ? updateStep(target, found.value, fields, replace, context)
      : createStep(target.table, fields, context);
    if (!step.ok) return step;
    steps.push(step.value);
  }
  const records = apply(target, steps, context);
  const updated = records.filter((_, i) => steps[i]!.record).map((r) => r.id);
  const created = records.filter((_, i) => !steps[i]!.record).map((r) => r.id);
  return { ok: true, value: { records, created, updated } };
}

function byId(table: SampleTable, id: string): Outcome<SampleRecord> {
  const record = table.records.find((r) => r.id === id);
  return record ? { ok: true, value: record } : { ok: false, error: rowDoesNotExist(id) };
}

function createStep(table: SampleTable, input: Record<string, unknown>, context: CellContext): Outcome<Step> {
  const result = writeFields(table, input, {}, context);
  return result.ok ? { ok: true, value: { record: undefined, fields: result.fields } } : result;
}

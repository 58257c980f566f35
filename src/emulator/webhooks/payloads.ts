/**
 * One change as one webhook sees it: the part of Airtable's payload (changedTablesById,
 * createdTablesById) its specification asks for, or nothing when the change does not match
 * (dataTypes, recordChangeScope, changeTypes, fromSources, watched fields).
 */
import type { BaseChange, RecordSnapshot } from "../changes.js";
import type { SampleBase, SampleTable } from "../sample-data.js";
import type { ChangeType, DataType, Source, WebhookSpecification } from "./spec.js";

type Cells = Record<string, unknown>;

interface ChangedRecord {
  current: { cellValuesByFieldId: Cells };
  previous?: { cellValuesByFieldId: Cells };
  unchanged?: { cellValuesByFieldId: Cells };
}

/** The record changes of Airtable's "Webhooks table changed" object. */
interface RecordChanges {
  createdRecordsById?: Record<string, { createdTime: string; cellValuesByFieldId: Cells }>;
  changedRecordsById?: Record<string, ChangedRecord>;
  destroyedRecordIds?: string[];
}

export interface TableChanged extends RecordChanges {
  createdFieldsById?: Record<string, { name: string; type: string }>;
  changedFieldsById?: Record<string, { current: { name: string; type: string } }>;
  changedMetadata?: { current: { name: string; description: string } };
}

export interface TableCreated {
  metadata: { name: string; description: string };
  fieldsById: Record<string, { name: string; type: string }>;
}

/** What a change contributes to a payload: the keys beside timestamp, actionMetadata and the rest. */
export type PayloadChanges =
  | { changedTablesById: Record<string, TableChanged> }
  | { createdTablesById: Record<string, TableCreated> };

/** The dataType and changeType of each change kind. */
const KIND: Record<BaseChange["kind"], { dataType: DataType; changeType: ChangeType }> = {
  "records.created": { dataType: "tableData", changeType: "add" },
  "records.changed": { dataType: "tableData", changeType: "update" },
  "records.destroyed": { dataType: "tableData", changeType: "remove" },
  "field.created": { dataType: "tableFields", changeType: "add" },
  "field.changed": { dataType: "tableFields", changeType: "update" },
  "table.created": { dataType: "tableMetadata", changeType: "add" },
  "table.changed": { dataType: "tableMetadata", changeType: "update" },
};

const pick = (cells: Cells, ids: Iterable<string>): Cells =>
  Object.fromEntries([...ids].filter((id) => id in cells).map((id) => [id, cells[id]]));

/** Field ids whose values differ between two snapshots (compared as JSON: cell values are JSON). */
function changedFieldIds(before: RecordSnapshot, after: RecordSnapshot): string[] {
  const ids = new Set([
    ...Object.keys(before.cellValuesByFieldId),
    ...Object.keys(after.cellValuesByFieldId),
  ]);
  return [...ids].filter(
    (id) =>
      JSON.stringify(before.cellValuesByFieldId[id] ?? null) !==
      JSON.stringify(after.cellValuesByFieldId[id] ?? null),
  );
}

/** One changed record as the specification's includes shape it; undefined when no watched field changed. */
function changedRecord(
  spec: WebhookSpecification,
  before: RecordSnapshot,
  after: RecordSnapshot,
): ChangedRecord | undefined {
  const { filters, includes } = spec.options;
  const changed = changedFieldIds(before, after);
  const watched = filters.watchDataInFieldIds;
  if (changed.length === 0 || (watched && !changed.some((id) => watched.includes(id)))) return undefined;
  const entry: ChangedRecord = { current: { cellValuesByFieldId: pick(after.cellValuesByFieldId, changed) } };
  if (includes?.includePreviousCellValues)
    entry.previous = { cellValuesByFieldId: pick(before.cellValuesByFieldId, changed) };
  const wanted = includes?.includeCellValuesInFieldIds;
  if (wanted !== undefined) {
    const all = Object.keys(after.cellValuesByFieldId);
    const unchanged = (wanted === "all" ? all : wanted).filter((id) => !changed.includes(id));
    entry.unchanged = { cellValuesByFieldId: pick(after.cellValuesByFieldId, unchanged) };
  }
  return entry;
}

/** The record part of a tableData change, or undefined when nothing in it matches. */
function recordChanges(spec: WebhookSpecification, change: BaseChange): RecordChanges | undefined {
  switch (change.kind) {
    case "records.created": {
      if (change.records.length === 0) return undefined;
      const created = change.records.map((r) => [
        r.id,
        { createdTime: r.createdTime, cellValuesByFieldId: r.cellValuesByFieldId },
      ]);
      return { createdRecordsById: Object.fromEntries(created) };
    }
    case "records.changed": {
      const entries = change.changes.flatMap(({ before, after }) => {
        const entry = changedRecord(spec, before, after);
        return entry ? [[after.id, entry] as const] : [];
      });
      return entries.length === 0 ? undefined : { changedRecordsById: Object.fromEntries(entries) };
    }
    case "records.destroyed":
      return change.recordIds.length === 0 ? undefined : { destroyedRecordIds: [...change.recordIds] };
    default:
      return undefined;
  }
}

const fieldShape = (table: SampleTable, fieldId: string) => {
  const field = table.fields.find((f) => f.id === fieldId);
  return field ? { name: field.name, type: field.type } : undefined;
};

/** The schema part of a field or table change, read from the base as it is now. */
function schemaChanges(
  spec: WebhookSpecification,
  change: BaseChange,
  table: SampleTable,
): PayloadChanges | undefined {
  const watched = spec.options.filters.watchSchemasOfFieldIds;
  if (change.kind === "field.created" || change.kind === "field.changed") {
    const shape = fieldShape(table, change.fieldId);
    if (!shape || (watched && !watched.includes(change.fieldId))) return undefined;
    const tableChange: TableChanged =
      change.kind === "field.created"
        ? { createdFieldsById: { [change.fieldId]: shape } }
        : { changedFieldsById: { [change.fieldId]: { current: shape } } };
    return { changedTablesById: { [table.id]: tableChange } };
  }
  const metadata = { name: table.name, description: table.description ?? "" };
  if (change.kind === "table.changed")
    return { changedTablesById: { [table.id]: { changedMetadata: { current: metadata } } } };
  const fieldsById = Object.fromEntries(table.fields.map((f) => [f.id, { name: f.name, type: f.type }]));
  return { createdTablesById: { [table.id]: { metadata, fieldsById } } };
}

/**
 * What `change` (made through `source`) adds to a payload of a webhook with `spec` on `base`,
 * or undefined when the webhook does not watch it.
 */
export function payloadChanges(
  spec: WebhookSpecification,
  base: SampleBase,
  change: BaseChange,
  source: Source,
): PayloadChanges | undefined {
  const { filters } = spec.options;
  const { dataType, changeType } = KIND[change.kind];
  if (!filters.dataTypes.includes(dataType)) return undefined;
  if (filters.changeTypes && !filters.changeTypes.includes(changeType)) return undefined;
  if (filters.fromSources && !filters.fromSources.includes(source)) return undefined;
  const scope = filters.recordChangeScope;
  if (scope !== undefined && scope !== change.tableId) return undefined;
  const table = base.tables.find((t) => t.id === change.tableId);
  if (!table) return undefined;
  if (dataType !== "tableData") return schemaChanges(spec, change, table);
  const records = recordChanges(spec, change);
  if (!records) return undefined;
  return { changedTablesById: { [table.id]: records } };
}

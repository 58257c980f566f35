/**
 * Links are two-sided, as in Airtable: writing a link cell also writes the inverse field of the
 * records it now (or no longer) points at, and deleting a record takes it out of every link cell
 * that pointed at it. The other table's records that changed this way are reported as changes too.
 */
import type { BaseChange, ChangeSource, RecordSnapshot } from "../changes.js";
import type { SampleBase, SampleField, SampleRecord, SampleTable } from "../sample-data.js";
import { snapshot } from "./cells.js";

type Changed = Map<SampleTable, Map<SampleRecord, RecordSnapshot>>;

function linkIds(cell: unknown): string[] {
  return Array.isArray(cell) ? cell.filter((id): id is string => typeof id === "string") : [];
}

/** Notes a record's state before its first change here, so each is reported once. */
function touch(changed: Changed, table: SampleTable, record: SampleRecord): void {
  const records = changed.get(table) ?? new Map<SampleRecord, RecordSnapshot>();
  changed.set(table, records);
  if (!records.has(record)) records.set(record, snapshot(table, record));
}

function setLink(record: SampleRecord, field: SampleField, ids: string[]): void {
  if (ids.length === 0) delete record.fields[field.name];
  else record.fields[field.name] = ids;
}

/** The linked table and its inverse field of a link field, when the link has one. */
function inverseOf(
  base: SampleBase,
  field: SampleField,
): { table: SampleTable; field: SampleField } | undefined {
  if (field.type !== "multipleRecordLinks") return undefined;
  const table = base.tables.find((t) => t.id === field.options?.linkedTableId);
  const inverse = table?.fields.find((f) => f.id === field.options?.inverseLinkFieldId);
  return table && inverse ? { table, field: inverse } : undefined;
}

/** Mirrors one record's link cells (`before` → its cells now) into the inverse fields. */
function mirror(
  base: SampleBase,
  table: SampleTable,
  record: SampleRecord,
  before: Record<string, unknown>,
  changed: Changed,
): void {
  for (const field of table.fields) {
    const other = inverseOf(base, field);
    if (!other) continue;
    const was = new Set(linkIds(before[field.name]));
    const is = new Set(linkIds(record.fields[field.name]));
    for (const linked of other.table.records) {
      const had = linkIds(linked.fields[other.field.name]);
      const has = had.includes(record.id);
      if (is.has(linked.id) && !has) {
        touch(changed, other.table, linked);
        setLink(linked, other.field, [...had, record.id]);
      } else if (was.has(linked.id) && !is.has(linked.id) && has) {
        touch(changed, other.table, linked);
        setLink(
          linked,
          other.field,
          had.filter((id) => id !== record.id),
        );
      }
    }
  }
}

function report(base: SampleBase, changed: Changed, source: ChangeSource, emit: WriteEmit): void {
  for (const [table, records] of changed) {
    const changes = [...records].map(([record, before]) => ({ before, after: snapshot(table, record) }));
    if (changes.length > 0)
      emit({ kind: "records.changed", baseId: base.id, tableId: table.id, changes }, source);
  }
}

type WriteEmit = (change: BaseChange, source: ChangeSource) => void;

/**
 * After records of `table` were written (`writes`: each record and its cells before the write, empty
 * for a new record), updates the inverse link fields they affect and reports those records.
 */
export function syncInverseLinks(
  base: SampleBase,
  table: SampleTable,
  writes: { record: SampleRecord; before: Record<string, unknown> }[],
  source: ChangeSource,
  emit: WriteEmit,
): void {
  const changed: Changed = new Map();
  for (const { record, before } of writes) mirror(base, table, record, before, changed);
  report(base, changed, source, emit);
}

/** After records of `table` were deleted: no link cell in the base points at them any more. */
export function dropLinksTo(
  base: SampleBase,
  table: SampleTable,
  deleted: ReadonlySet<string>,
  source: ChangeSource,
  emit: WriteEmit,
): void {
  const changed: Changed = new Map();
  for (const other of base.tables) {
    const links = other.fields.filter(
      (f) => f.type === "multipleRecordLinks" && f.options?.linkedTableId === table.id,
    );
    for (const field of links) {
      for (const record of other.records) {
        const ids = linkIds(record.fields[field.name]);
        if (!ids.some((id) => deleted.has(id))) continue;
        touch(changed, other, record);
        setLink(
          record,
          field,
          ids.filter((id) => !deleted.has(id)),
        );
      }
    }
  }
  report(base, changed, source, emit);
}

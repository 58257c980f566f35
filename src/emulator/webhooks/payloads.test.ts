import { describe, expect, it } from "vitest";
import type { BaseChange, RecordSnapshot } from "../changes.js";
import { createSampleData } from "../sample-data.js";
import { payloadChanges } from "./payloads.js";
import type { WebhookSpecification } from "./spec.js";

const base = createSampleData().bases[0]!;
const table = base.tables[0]!;
const [name, notes] = table.fields as [(typeof table.fields)[0], (typeof table.fields)[0]];

const spec = (
  filters: Partial<WebhookSpecification["options"]["filters"]>,
  includes?: WebhookSpecification["options"]["includes"],
): WebhookSpecification => ({
  options: {
    filters: { dataTypes: ["tableData", "tableFields", "tableMetadata"], ...filters },
    ...(includes ? { includes } : {}),
  },
});
const snap = (cells: Record<string, unknown>): RecordSnapshot => ({
  id: "recAAAAAAAAAAAAAA",
  createdTime: "2024-01-15T09:00:00.000Z",
  cellValuesByFieldId: cells,
});
const ids = { baseId: base.id, tableId: table.id };
const create: BaseChange = { kind: "records.created", ...ids, records: [snap({ [name.id]: "x" })] };
const destroy: BaseChange = { kind: "records.destroyed", ...ids, recordIds: ["recAAAAAAAAAAAAAA"] };
const notesChanged: BaseChange = {
  kind: "records.changed",
  ...ids,
  changes: [
    { before: snap({ [name.id]: "x", [notes.id]: "a" }), after: snap({ [name.id]: "x", [notes.id]: "b" }) },
  ],
};

describe("filters", () => {
  it("changeTypes: add, remove, update select created, destroyed and changed records", () => {
    const onlyAdds = spec({ changeTypes: ["add"] });
    expect(payloadChanges(onlyAdds, base, create, "publicApi")).toBeDefined();
    expect(payloadChanges(onlyAdds, base, destroy, "publicApi")).toBeUndefined();
    expect(payloadChanges(onlyAdds, base, notesChanged, "publicApi")).toBeUndefined();
  });

  it("fromSources keeps only changes from those sources", () => {
    const fromUi = spec({ fromSources: ["client"] });
    expect(payloadChanges(fromUi, base, create, "publicApi")).toBeUndefined();
    expect(payloadChanges(fromUi, base, create, "client")).toBeDefined();
  });

  it("watchDataInFieldIds ignores updates that change none of the watched fields", () => {
    expect(
      payloadChanges(spec({ watchDataInFieldIds: [name.id] }), base, notesChanged, "publicApi"),
    ).toBeUndefined();
    expect(
      payloadChanges(spec({ watchDataInFieldIds: [notes.id] }), base, notesChanged, "publicApi"),
    ).toBeDefined();
  });

  it("an update that changes no value is no change", () => {
    const same: BaseChange = {
      kind: "records.changed",
      ...ids,
      changes: [{ before: snap({ [name.id]: "x" }), after: snap({ [name.id]: "x" }) }],
    };
    expect(payloadChanges(spec({}), base, same, "publicApi")).toBeUndefined();
  });

  it("watchSchemasOfFieldIds keeps only those fields' schema changes", () => {
    const change: BaseChange = { kind: "field.changed", ...ids, fieldId: notes.id };
    expect(
      payloadChanges(spec({ watchSchemasOfFieldIds: [name.id] }), base, change, "publicApi"),
    ).toBeUndefined();
    expect(payloadChanges(spec({ watchSchemasOfFieldIds: [notes.id] }), base, change, "publicApi")).toEqual({
      changedTablesById: {
        [table.id]: {
          changedFieldsById: { [notes.id]: { current: { name: notes.name, type: notes.type } } },
        },
      },
    });
  });
});

describe("includes and schema shapes", () => {
  it('includeCellValuesInFieldIds "all" reports every unchanged value', () => {
    const result = payloadChanges(
      spec({}, { includeCellValuesInFieldIds: "all" }),
      base,
      notesChanged,
      "publicApi",
    );
    expect(result).toEqual({
      changedTablesById: {
        [table.id]: {
          changedRecordsById: {
            recAAAAAAAAAAAAAA: {
              current: { cellValuesByFieldId: { [notes.id]: "b" } },
              unchanged: { cellValuesByFieldId: { [name.id]: "x" } },
            },
          },
        },
      },
    });
  });

  it("a created table goes to createdTablesById with its metadata and fields", () => {
    const result = payloadChanges(
      spec({ dataTypes: ["tableMetadata"] }),
      base,
      { kind: "table.created", ...ids },
      "publicApi",
    );
    expect(result).toEqual({
      createdTablesById: {
        [table.id]: {
          metadata: { name: table.name, description: table.description ?? "" },
          fieldsById: Object.fromEntries(table.fields.map((f) => [f.id, { name: f.name, type: f.type }])),
        },
      },
    });
  });
});

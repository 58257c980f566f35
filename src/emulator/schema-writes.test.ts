import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { BaseChange } from "./changes.js";
import { findTable, type SampleBase } from "./sample-data.js";
import { type ServedEmulator, send, serveEmulator } from "./test-support.js";
import { api, loginAutoApproved } from "./testing.js";

let emulator: ServedEmulator;
let token: string;
let roadmap: SampleBase;
let crm: SampleBase;
const changes: BaseChange[] = [];

beforeAll(async () => {
  emulator = await serveEmulator({ autoApprove: true });
  token = (await loginAutoApproved(emulator.url, "schema.bases:read schema.bases:write data.records:read"))
    .access_token;
  emulator.state.changes.subscribe((change, source) => {
    expect(source).toEqual({ userId: emulator.state.data.user.id, clientId: "airlock-emulator-client" });
    changes.push(change);
  });
  [roadmap, crm] = emulator.state.data.bases as [SampleBase, SampleBase];
});
afterAll(() => emulator.close());
beforeEach(() => {
  emulator.state.clock.advance(31); // a fresh 5 req/s window per test
  changes.length = 0;
});

const tablesPath = () => `/v0/meta/bases/${roadmap.id}/tables`;
const post = (path: string, body: unknown, bearer = token) => send(emulator.url, "POST", path, bearer, body);
const patch = (path: string, body: unknown) => send(emulator.url, "PATCH", path, token, body);
const error = (type: string) => ({ error: { type, message: expect.any(String) } });

let n = 0;
const unique = (name: string) => `${name} ${++n}`;

describe("POST /v0/meta/bases/:baseId/tables", () => {
  it("creates a table (first field primary, a grid view, choice ids) that the schema then lists", async () => {
    const name = unique("Tasks");
    const { status, json } = await post(tablesPath(), {
      name,
      description: "Things to do",
      fields: [
        { name: "Title", type: "singleLineText", description: "What" },
        {
          name: "Status",
          type: "singleSelect",
          options: { choices: [{ name: "Todo" }, { name: "Done", color: "greenLight2" }] },
        },
        { name: "Points", type: "number", options: { precision: 1 } },
        { name: "Due", type: "date", options: { dateFormat: { name: "iso" } } },
      ],
    });
    expect(status).toBe(200);
    expect(json).toEqual({
      id: expect.stringMatching(/^tbl[A-Za-z0-9]{14}$/),
      name,
      description: "Things to do",
      primaryFieldId: expect.stringMatching(/^fld[A-Za-z0-9]{14}$/),
      fields: [
        { id: expect.stringMatching(/^fld/), name: "Title", type: "singleLineText", description: "What" },
        {
          id: expect.stringMatching(/^fld/),
          name: "Status",
          type: "singleSelect",
          options: {
            choices: [
              { id: expect.stringMatching(/^sel[A-Za-z0-9]{14}$/), name: "Todo" },
              { id: expect.stringMatching(/^sel[A-Za-z0-9]{14}$/), name: "Done", color: "greenLight2" },
            ],
          },
        },
        { id: expect.stringMatching(/^fld/), name: "Points", type: "number", options: { precision: 1 } },
        {
          id: expect.stringMatching(/^fld/),
          name: "Due",
          type: "date",
          options: { dateFormat: { name: "iso", format: "YYYY-MM-DD" } },
        },
      ],
      views: [{ id: expect.stringMatching(/^viw[A-Za-z0-9]{14}$/), name: "Grid view", type: "grid" }],
    });
    const fields = json.fields as { id: string }[];
    expect(json.primaryFieldId).toBe(fields[0]?.id);
    const schema = await api(emulator.url, tablesPath(), token);
    expect(schema.json.tables).toContainEqual(json);
    const records = await api(emulator.url, `/v0/${roadmap.id}/${encodeURIComponent(name)}`, token);
    expect(records.json).toEqual({ records: [] });
    expect(changes).toEqual([{ kind: "table.created", baseId: roadmap.id, tableId: json.id }]);
  });

  it("a link field points at an existing table and gets its inverse there", async () => {
    const releases = findTable(roadmap, "Releases")!;
    const name = unique("Milestones");
    const { status, json } = await post(tablesPath(), {
      name,
      fields: [
        { name: "Name", type: "singleLineText" },
        { name: "Release", type: "multipleRecordLinks", options: { linkedTableId: releases.id } },
      ],
    });
    expect(status).toBe(200);
    const link = (json.fields as { options?: Record<string, unknown> }[])[1];
    const inverse = releases.fields.find((f) => f.name === name);
    expect(link?.options).toEqual({
      linkedTableId: releases.id,
      isReversed: false,
      prefersSingleRecordLink: false,
      inverseLinkFieldId: inverse?.id,
    });
    expect(inverse?.options).toMatchObject({
      linkedTableId: json.id,
      inverseLinkFieldId: expect.any(String),
    });
    expect(changes.map((c) => c.kind)).toEqual(["table.created", "field.created"]);
  });

  it("needs schema.bases:write", async () => {
    const reader = await loginAutoApproved(emulator.url, "schema.bases:read");
    const body = { name: unique("T"), fields: [{ name: "Name", type: "singleLineText" }] };
    const res = await post(tablesPath(), body, reader.access_token);
    expect(res).toEqual({ status: 403, json: error("INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND") });
  });

  it("needs creator permission on the base (an editor cannot change the schema)", async () => {
    const body = { name: unique("T"), fields: [{ name: "Name", type: "singleLineText" }] };
    const res = await post(`/v0/meta/bases/${crm.id}/tables`, body);
    expect(res).toEqual({ status: 403, json: error("INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND") });
    expect(changes).toEqual([]);
  });

  it.each([
    [
      "a taken table name (any case)",
      { name: "features", fields: [{ name: "N", type: "singleLineText" }] },
      "DUPLICATE_TABLE_NAME",
    ],
    [
      "an empty table name",
      { name: " ", fields: [{ name: "N", type: "singleLineText" }] },
      "INVALID_REQUEST_UNKNOWN",
    ],
    ["no fields", { name: "X", fields: [] }, "INVALID_REQUEST_UNKNOWN"],
    [
      "an unknown parameter",
      { name: "X", fields: [{ name: "N", type: "singleLineText" }], color: 1 },
      "INVALID_REQUEST_UNKNOWN",
    ],
    [
      "a 20,001-character description",
      { name: "X", description: "d".repeat(20_001), fields: [{ name: "N", type: "singleLineText" }] },
      "INVALID_REQUEST_UNKNOWN",
    ],
    [
      "two fields named alike",
      {
        name: "X",
        fields: [
          { name: "N", type: "singleLineText" },
          { name: "n", type: "email" },
        ],
      },
      "DUPLICATE_OR_EMPTY_FIELD_NAME",
    ],
    [
      "an empty field name",
      { name: "X", fields: [{ name: "", type: "singleLineText" }] },
      "DUPLICATE_OR_EMPTY_FIELD_NAME",
    ],
    [
      "an unknown field type",
      { name: "X", fields: [{ name: "N", type: "text" }] },
      "INVALID_REQUEST_UNKNOWN",
    ],
    [
      "a computed field type",
      {
        name: "X",
        fields: [
          { name: "N", type: "singleLineText" },
          { name: "F", type: "formula", options: { formula: "1" } },
        ],
      },
      "UNSUPPORTED_FIELD_TYPE_FOR_CREATE",
    ],
    [
      "a checkbox as primary field",
      {
        name: "X",
        fields: [{ name: "Done", type: "checkbox", options: { icon: "check", color: "greenBright" } }],
      },
      "INVALID_REQUEST_UNKNOWN",
    ],
    [
      "options on a text field",
      { name: "X", fields: [{ name: "N", type: "singleLineText", options: {} }] },
      "INVALID_FIELD_TYPE_OPTIONS_FOR_CREATE",
    ],
    [
      "a number without precision",
      {
        name: "X",
        fields: [
          { name: "N", type: "singleLineText" },
          { name: "P", type: "number" },
        ],
      },
      "INVALID_FIELD_TYPE_OPTIONS_FOR_CREATE",
    ],
    [
      "a precision above 8",
      { name: "X", fields: [{ name: "P", type: "number", options: { precision: 9 } }] },
      "INVALID_FIELD_TYPE_OPTIONS_FOR_CREATE",
    ],
    [
      "a checkbox without icon",
      {
        name: "X",
        fields: [
          { name: "N", type: "singleLineText" },
          { name: "C", type: "checkbox", options: { color: "greenBright" } },
        ],
      },
      "INVALID_FIELD_TYPE_OPTIONS_FOR_CREATE",
    ],
    [
      "an unknown choice color",
      {
        name: "X",
        fields: [
          { name: "N", type: "singleLineText" },
          { name: "S", type: "singleSelect", options: { choices: [{ name: "a", color: "mauve" }] } },
        ],
      },
      "INVALID_FIELD_TYPE_OPTIONS_FOR_CREATE",
    ],
    [
      "a date format that does not match its name",
      {
        name: "X",
        fields: [{ name: "D", type: "date", options: { dateFormat: { name: "iso", format: "M/D/YYYY" } } }],
      },
      "INVALID_FIELD_TYPE_OPTIONS_FOR_CREATE",
    ],
    [
      "a time zone spelled UTC",
      {
        name: "X",
        fields: [
          {
            name: "D",
            type: "dateTime",
            options: { timeZone: "UTC", dateFormat: { name: "iso" }, timeFormat: { name: "24hour" } },
          },
        ],
      },
      "INVALID_FIELD_TYPE_OPTIONS_FOR_CREATE",
    ],
    [
      "a link to an unknown table",
      {
        name: "X",
        fields: [
          { name: "N", type: "singleLineText" },
          { name: "L", type: "multipleRecordLinks", options: { linkedTableId: "tblAAAAAAAAAAAAAA" } },
        ],
      },
      "INVALID_FIELD_TYPE_OPTIONS_FOR_CREATE",
    ],
    [
      "prefersSingleRecordLink on create",
      {
        name: "X",
        fields: [
          { name: "N", type: "singleLineText" },
          {
            name: "L",
            type: "multipleRecordLinks",
            options: { linkedTableId: "tblAAAAAAAAAAAAAA", prefersSingleRecordLink: true },
          },
        ],
      },
      "INVALID_FIELD_TYPE_OPTIONS_FOR_CREATE",
    ],
  ])("refuses %s with 422 %s", async (_what, body, type) => {
    const before = roadmap.tables.length;
    const res = await post(tablesPath(), body);
    expect(res).toEqual({ status: 422, json: error(type) });
    expect(roadmap.tables.length).toBe(before);
  });

  it("refuses a body that is not JSON", async () => {
    expect(await post(tablesPath(), "{ nope")).toEqual({
      status: 422,
      json: error("INVALID_REQUEST_UNKNOWN"),
    });
  });
});

describe("PATCH /v0/meta/bases/:baseId/tables/:tableIdOrName", () => {
  it("renames and describes a table, by id or by name", async () => {
    const created = await post(tablesPath(), {
      name: unique("Old"),
      fields: [{ name: "N", type: "singleLineText" }],
    });
    const id = String(created.json.id);
    const renamed = await patch(`${tablesPath()}/${id}`, {
      name: unique("New"),
      description: "Now described",
    });
    expect(renamed.status).toBe(200);
    expect(renamed.json).toMatchObject({ id, description: "Now described" });
    const byName = await patch(`${tablesPath()}/${encodeURIComponent(String(renamed.json.name))}`, {
      description: "Again",
    });
    expect(byName.json).toMatchObject({ id, description: "Again" });
    expect(changes.filter((c) => c.kind === "table.changed")).toHaveLength(2);
  });

  it.each([
    [{}, "INVALID_REQUEST_UNKNOWN"],
    [{ name: "Releases" }, "DUPLICATE_TABLE_NAME"],
    [{ description: "" }, "INVALID_REQUEST_UNKNOWN"],
  ])("refuses %j", async (body, type) => {
    const features = findTable(roadmap, "Features")!;
    expect(await patch(`${tablesPath()}/${features.id}`, body)).toEqual({ status: 422, json: error(type) });
  });

  it("an unknown table is 404", async () => {
    expect((await patch(`${tablesPath()}/tblAAAAAAAAAAAAAA`, { name: "X" })).status).toBe(404);
  });
});

describe("fields", () => {
  it("POST …/fields adds an empty field to every record; PATCH renames it and its values follow", async () => {
    const features = findTable(roadmap, "Features")!;
    const fieldsPath = `${tablesPath()}/${features.id}/fields`;
    const name = unique("Effort");
    const created = await post(fieldsPath, {
      name,
      type: "rating",
      options: { icon: "star", max: 3, color: "redBright" },
    });
    expect(created).toEqual({
      status: 200,
      json: {
        id: expect.stringMatching(/^fld[A-Za-z0-9]{14}$/),
        name,
        type: "rating",
        options: { icon: "star", max: 3, color: "redBright" },
      },
    });
    const schema = await api(emulator.url, tablesPath(), token);
    const tables = schema.json.tables as { id: string; fields: unknown[] }[];
    expect(tables.find((t) => t.id === features.id)?.fields).toContainEqual(created.json);

    const renamed = await patch(`${fieldsPath}/${String(created.json.id)}`, { name: "notes" });
    expect(renamed.status).toBe(422); // "Notes" exists; a rename must not collide either
    const notes = await patch(`${fieldsPath}/Notes`, { name: unique("Notes"), description: "Why" });
    expect(notes).toEqual({
      status: 200,
      json: expect.objectContaining({ type: "multilineText", description: "Why" }),
    });
    const page = await api(emulator.url, `/v0/${roadmap.id}/${features.id}?pageSize=2`, token);
    const [first, second] = page.json.records as { fields: Record<string, unknown> }[];
    expect(first?.fields.Notes).toBeUndefined();
    expect(second?.fields[String(notes.json.name)]).toContain("Notes for feature 2");
    expect(changes.map((c) => c.kind)).toEqual(["field.created", "field.changed"]);
  });

  it.each([
    [{ name: "NAME", type: "singleLineText" }, "DUPLICATE_OR_EMPTY_FIELD_NAME"],
    [{ name: "C", type: "createdTime" }, "UNSUPPORTED_FIELD_TYPE_FOR_CREATE"],
    [{ name: "C", type: "currency", options: { precision: 2 } }, "INVALID_FIELD_TYPE_OPTIONS_FOR_CREATE"],
    [
      { name: "C", type: "duration", options: { durationFormat: "mm" } },
      "INVALID_FIELD_TYPE_OPTIONS_FOR_CREATE",
    ],
    [{ type: "singleLineText" }, "INVALID_REQUEST_UNKNOWN"],
  ])("POST …/fields refuses %j", async (body, type) => {
    const features = findTable(roadmap, "Features")!;
    const res = await post(`${tablesPath()}/${features.id}/fields`, body);
    expect(res).toEqual({ status: 422, json: error(type) });
  });

  it("the field routes take a table id, not a name; unknown fields are 404", async () => {
    expect((await post(`${tablesPath()}/Features/fields`, { name: "X", type: "email" })).status).toBe(404);
    const features = findTable(roadmap, "Features")!;
    expect(
      (await patch(`${tablesPath()}/${features.id}/fields/fldAAAAAAAAAAAAAA`, { name: "X" })).status,
    ).toBe(404);
  });

  it("schema writes count against the base's 5 requests per second", async () => {
    const features = findTable(roadmap, "Features")!;
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      statuses.push((await patch(`${tablesPath()}/${features.id}`, { description: `d${i}` })).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
  });
});

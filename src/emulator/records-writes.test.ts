/**
 * Writing records over HTTP: create, update (merge), replace, upsert and delete, their limits,
 * bodies, scopes and permissions, and what each write reports on the change feed.
 */
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import type { BaseChange, ChangeSource } from "./changes.js";
import { type RecordsEmulator, startRecordsEmulator } from "./records/testing.js";
import { loginAutoApproved } from "./testing.js";

const errorOf = (type: string) => ({ error: { type, message: expect.any(String) } });
type Rec = { id: string; createdTime: string; fields: Record<string, unknown> };

let emulator: RecordsEmulator;
let changes: { change: BaseChange; source: ChangeSource }[];
let roadmapId: string;
let FEATURES: string;
// A fresh emulator per test: writes change the data.
beforeEach(async () => {
  await emulator?.close();
  emulator = await startRecordsEmulator();
  changes = [];
  emulator.state.changes.subscribe((change, source) => changes.push({ change, source }));
  roadmapId = emulator.state.data.bases[0]!.id;
  FEATURES = `/v0/${roadmapId}/Features`;
});
afterAll(() => emulator.close());

const features = () => emulator.state.data.bases[0]!.tables[0]!;
const fieldId = (name: string) => features().fields.find((f) => f.name === name)!.id;

describe("POST /v0/{base}/{table} (create)", () => {
  it("creates up to 10 records and answers them with id and createdTime", async () => {
    const before = features().records.length;
    const { status, json } = await emulator.call("POST", FEATURES, {
      body: { records: [{ fields: { Name: "New A", Priority: 2 } }, { fields: { Name: "New B" } }] },
    });
    expect(status).toBe(200);
    const records = json.records as Rec[];
    expect(records.map((r) => r.fields)).toEqual([{ Name: "New A", Priority: 2 }, { Name: "New B" }]);
    expect(records[0]!.id).toMatch(/^rec[A-Za-z0-9]{14}$/);
    expect(records[0]!.createdTime).toBe(new Date(Date.parse(records[0]!.createdTime)).toISOString());
    expect(features().records.length).toBe(before + 2);
    const fetched = await emulator.call("GET", `${FEATURES}/${records[1]!.id}`);
    expect(fetched.json).toEqual(records[1]);
  });

  it("the single form {fields} answers one record", async () => {
    const { status, json } = await emulator.call("POST", FEATURES, { body: { fields: { Name: "Solo" } } });
    expect(status).toBe(200);
    expect(json).toEqual({
      id: expect.stringMatching(/^rec/),
      createdTime: expect.any(String),
      fields: { Name: "Solo" },
    });
  });

  it("airtable.js's trailing slash on the table path routes too", async () => {
    expect(
      (await emulator.call("POST", `${FEATURES}/`, { body: { fields: { Name: "Slash" } } })).status,
    ).toBe(200);
  });

  it("more than 10 records (or none) → 422 INVALID_RECORDS, nothing created", async () => {
    const before = features().records.length;
    const eleven = Array.from({ length: 11 }, (_, i) => ({ fields: { Name: `N${i}` } }));
    expect(await emulator.call("POST", FEATURES, { body: { records: eleven } })).toEqual({
      status: 422,
      json: errorOf("INVALID_RECORDS"),
    });
    expect((await emulator.call("POST", FEATURES, { body: { records: [] } })).json).toEqual(
      errorOf("INVALID_RECORDS"),
    );
    expect(features().records.length).toBe(before);
  });

  it("a record without fields → 422 INVALID_REQUEST_MISSING_FIELDS", async () => {
    expect((await emulator.call("POST", FEATURES, { body: { records: [{}] } })).json).toEqual(
      errorOf("INVALID_REQUEST_MISSING_FIELDS"),
    );
    expect((await emulator.call("POST", FEATURES, { body: {} })).json).toEqual(
      errorOf("INVALID_REQUEST_MISSING_FIELDS"),
    );
  });

  it("an unknown top-level key, a non-JSON body → 422", async () => {
    const unknown = await emulator.call("POST", FEATURES, {
      body: { records: [{ fields: {} }], upsert: true },
    });
    expect(unknown).toEqual({ status: 422, json: errorOf("INVALID_REQUEST_UNKNOWN") });
    expect((await emulator.call("POST", FEATURES, { raw: "{" })).json).toEqual(
      errorOf("INVALID_REQUEST_BODY"),
    );
    expect((await emulator.call("POST", FEATURES, { raw: "Name=x", contentType: "text/plain" })).status).toBe(
      422,
    );
  });

  it("an unknown field → 422 UNKNOWN_FIELD_NAME; fields may be named by id", async () => {
    expect((await emulator.call("POST", FEATURES, { body: { fields: { Nope: 1 } } })).json).toEqual(
      errorOf("UNKNOWN_FIELD_NAME"),
    );
    const { json } = await emulator.call("POST", FEATURES, {
      body: { fields: { [fieldId("Name")]: "By id" } },
    });
    expect(json.fields).toEqual({ Name: "By id" });
  });

  it("returnFieldsByFieldId answers fields by id", async () => {
    const { json } = await emulator.call("POST", FEATURES, {
      body: { fields: { Name: "Ids" }, returnFieldsByFieldId: true },
    });
    expect(json.fields).toEqual({ [fieldId("Name")]: "Ids" });
  });

  it("one bad record fails the whole request", async () => {
    const before = features().records.length;
    const body = { records: [{ fields: { Name: "Good" } }, { fields: { Priority: "high" } }] };
    expect((await emulator.call("POST", FEATURES, { body })).json).toEqual(
      errorOf("INVALID_VALUE_FOR_COLUMN"),
    );
    expect(features().records.length).toBe(before);
    expect(changes).toEqual([]);
  });
});

describe("field values are checked against the field type", () => {
  it.each([
    ["single line text given a number", { Name: 5 }],
    ["long text given an object", { Notes: { a: 1 } }],
    ["number given a string", { Priority: "3" }],
    ["checkbox given a string", { Shipped: "yes" }],
    ["date not in ISO form", { Due: "01/02/2024" }],
    ["dateTime not in ISO form", { Kickoff: "tomorrow" }],
    ["email given a number", { "Owner email": 7 }],
    ["url given a list", { Spec: ["x"] }],
    ["multiple selects given a string", { Tags: "UX" }],
    ["links given a string", { Release: "v1.0" }],
    ["attachment without url", { Mockups: [{ filename: "a.png" }] }],
  ])("%s → 422 INVALID_VALUE_FOR_COLUMN", async (_case, fields) => {
    const { status, json } = await emulator.call("POST", FEATURES, { body: { fields } });
    expect(status).toBe(422);
    expect(json).toEqual(errorOf("INVALID_VALUE_FOR_COLUMN"));
  });

  it("a computed field (createdTime) cannot be written", async () => {
    const { json } = await emulator.call("POST", `/v0/${roadmapId}/Releases`, {
      body: { fields: { Created: "2024-01-01" } },
    });
    expect(json).toEqual({
      error: {
        type: "INVALID_VALUE_FOR_COLUMN",
        message: 'Field "Created" cannot accept a value because the field is computed',
      },
    });
  });

  it("a select value that is not a choice → 422 INVALID_MULTIPLE_CHOICE_OPTIONS", async () => {
    expect((await emulator.call("POST", FEATURES, { body: { fields: { Status: "Someday" } } })).json).toEqual(
      errorOf("INVALID_MULTIPLE_CHOICE_OPTIONS"),
    );
    expect(
      (await emulator.call("POST", FEATURES, { body: { fields: { Tags: ["UX", "Web"] } } })).json,
    ).toEqual(errorOf("INVALID_MULTIPLE_CHOICE_OPTIONS"));
  });

  it("a link to a record that does not exist → 422 ROW_DOES_NOT_EXIST", async () => {
    const { json } = await emulator.call("POST", FEATURES, {
      body: { fields: { Release: ["recAAAAAAAAAAAAAA"] } },
    });
    expect(json).toEqual(errorOf("ROW_DOES_NOT_EXIST"));
  });

  it("valid values of every type are stored; dateTime normalised, attachments get ids, empties left out", async () => {
    const release = emulator.state.data.bases[0]!.tables[1]!.records[0]!.id;
    const fields = {
      Name: "All types",
      Notes: "",
      Priority: 3,
      Shipped: false,
      Status: "Planned",
      Tags: ["UX", "API"],
      Due: "2024-03-01",
      Kickoff: "2024-03-01T10:30:00+01:00",
      "Owner email": "a@example.com",
      Spec: "https://example.com/spec",
      Release: [release],
      Mockups: [{ url: "https://example.com/a.png" }],
    };
    const { status, json } = await emulator.call("POST", FEATURES, { body: { fields } });
    expect(status).toBe(200);
    expect(json.fields).toEqual({
      Name: "All types",
      Priority: 3,
      Status: "Planned",
      Tags: ["UX", "API"],
      Due: "2024-03-01",
      Kickoff: "2024-03-01T09:30:00.000Z",
      "Owner email": "a@example.com",
      Spec: "https://example.com/spec",
      Release: [release],
      Mockups: [{ id: expect.stringMatching(/^att/), url: "https://example.com/a.png", filename: "a.png" }],
    });
  });
});

describe("typecast", () => {
  it("converts strings to numbers, checkboxes, dates, select lists and links by primary field", async () => {
    const fields = {
      Priority: "3",
      Shipped: "true",
      Due: "March 1, 2024",
      Tags: "UX, API",
      Release: "v2.0",
      Name: 42,
    };
    const { status, json } = await emulator.call("POST", FEATURES, { body: { fields, typecast: true } });
    expect(status).toBe(200);
    const v2 = emulator.state.data.bases[0]!.tables[1]!.records[1]!.id;
    expect(json.fields).toMatchObject({
      Priority: 3,
      Shipped: true,
      Tags: ["UX", "API"],
      Release: [v2],
      Name: "42",
    });
    expect(json.fields).toHaveProperty("Due", expect.stringMatching(/^2024-03-0[12]$/));
  });

  it("creates a new select choice on a base the user can configure, and reports the field change", async () => {
    const { json } = await emulator.call("POST", FEATURES, {
      body: { fields: { Status: "Someday" }, typecast: true },
    });
    expect(json.fields).toEqual({ Status: "Someday" });
    const schema = await emulator.call("GET", `/v0/meta/bases/${roadmapId}/tables`);
    const status = (
      schema.json.tables as { fields: { name: string; options?: { choices?: { name: string }[] } }[] }[]
    )[0]!.fields.find((f) => f.name === "Status")!;
    expect(status.options!.choices!.map((c) => c.name)).toContain("Someday");
    expect(changes.map((c) => c.change.kind)).toEqual(["field.changed", "records.created"]);
  });

  it("cannot create a choice with only edit permission (Customer CRM)", async () => {
    const crm = emulator.state.data.bases[1]!.id;
    const { json } = await emulator.call("POST", `/v0/${crm}/Contacts`, {
      body: { fields: { Stage: "Partner" }, typecast: true },
    });
    expect(json).toEqual(errorOf("INVALID_MULTIPLE_CHOICE_OPTIONS"));
  });
});

describe("PATCH and PUT", () => {
  it("PATCH merges the given fields; PUT replaces them all (computed ones stay)", async () => {
    const [a, b] = features().records;
    const patched = await emulator.call("PATCH", FEATURES, {
      body: { records: [{ id: a!.id, fields: { Priority: 4 } }] },
    });
    expect((patched.json.records as Rec[])[0]!.fields).toEqual({ ...a!.fields, Priority: 4 });
    const put = await emulator.call("PUT", FEATURES, {
      body: { records: [{ id: b!.id, fields: { Name: "Only" } }] },
    });
    expect((put.json.records as Rec[])[0]).toEqual({
      id: b!.id,
      createdTime: b!.createdTime,
      fields: { Name: "Only" },
    });
    const release = emulator.state.data.bases[0]!.tables[1]!.records[0]!;
    const replaced = await emulator.call("PUT", `/v0/${roadmapId}/Releases/${release.id}`, {
      body: { fields: { Version: "v9" } },
    });
    expect(replaced.json.fields).toEqual({ Version: "v9", Created: release.createdTime });
  });

  it("PATCH/PUT /{recordId} answer the one record", async () => {
    const a = features().records[0]!;
    const { status, json } = await emulator.call("PATCH", `${FEATURES}/${a.id}`, {
      body: { fields: { Notes: "n" }, typecast: false },
    });
    expect(status).toBe(200);
    expect(json).toEqual({ id: a.id, createdTime: a.createdTime, fields: { ...a.fields, Notes: "n" } });
  });

  it("an unknown record → 422 ROW_DOES_NOT_EXIST; a record without id → 422; more than 10 → INVALID_RECORDS", async () => {
    const missing = await emulator.call("PATCH", FEATURES, {
      body: { records: [{ id: "recAAAAAAAAAAAAAA", fields: {} }] },
    });
    expect(missing).toEqual({ status: 422, json: errorOf("ROW_DOES_NOT_EXIST") });
    expect(
      (await emulator.call("PATCH", `${FEATURES}/recAAAAAAAAAAAAAA`, { body: { fields: {} } })).json,
    ).toEqual(errorOf("ROW_DOES_NOT_EXIST"));
    expect((await emulator.call("PATCH", FEATURES, { body: { records: [{ fields: {} }] } })).status).toBe(
      422,
    );
    const eleven = features()
      .records.slice(0, 11)
      .map((r) => ({ id: r.id, fields: {} }));
    expect((await emulator.call("PUT", FEATURES, { body: { records: eleven } })).json).toEqual(
      errorOf("INVALID_RECORDS"),
    );
  });

  it("null or an empty value clears a cell", async () => {
    const a = features().records[1]!;
    const { json } = await emulator.call("PATCH", `${FEATURES}/${a.id}`, {
      body: { fields: { Notes: null, Status: "" } },
    });
    expect(json.fields).not.toHaveProperty("Notes");
    expect(json.fields).not.toHaveProperty("Status");
  });

  it("reports records.changed with before and after by field id, and who made it", async () => {
    const a = features().records[0]!;
    await emulator.call("PATCH", `${FEATURES}/${a.id}`, { body: { fields: { Priority: 4 } } });
    expect(changes).toEqual([
      {
        change: {
          kind: "records.changed",
          baseId: roadmapId,
          tableId: features().id,
          changes: [
            {
              before: expect.objectContaining({
                id: a.id,
                cellValuesByFieldId: expect.objectContaining({ [fieldId("Priority")]: 0 }),
              }),
              after: expect.objectContaining({
                id: a.id,
                cellValuesByFieldId: expect.objectContaining({ [fieldId("Priority")]: 4 }),
              }),
            },
          ],
        },
        source: { userId: emulator.state.data.user.id, clientId: emulator.state.config.clientId },
      },
    ]);
  });
});

describe("performUpsert", () => {
  it("updates the record that matches fieldsToMergeOn, creates the rest; lists which", async () => {
    const existing = features().records[4]!;
    const { status, json } = await emulator.call("PATCH", FEATURES, {
      body: {
        performUpsert: { fieldsToMergeOn: ["Name"] },
        records: [
          { fields: { Name: "Feature 5", Priority: 1 } },
          { fields: { Name: "Brand new", Priority: 2 } },
        ],
      },
    });
    expect(status).toBe(200);
    const records = json.records as Rec[];
    expect(records[0]).toMatchObject({
      id: existing.id,
      fields: { Name: "Feature 5", Priority: 1, Status: existing.fields.Status },
    });
    expect(json.updatedRecords).toEqual([existing.id]);
    expect(json.createdRecords).toEqual([records[1]!.id]);
    expect(changes.map((c) => c.change.kind)).toEqual(["records.created", "records.changed"]);
  });

  it("more than one match, a missing merge value, an unknown merge field → 422", async () => {
    await emulator.call("POST", FEATURES, { body: { fields: { Name: "Feature 1" } } });
    const twice = await emulator.call("PATCH", FEATURES, {
      body: { performUpsert: { fieldsToMergeOn: ["Name"] }, records: [{ fields: { Name: "Feature 1" } }] },
    });
    expect(twice.status).toBe(422);
    const missing = await emulator.call("PATCH", FEATURES, {
      body: { performUpsert: { fieldsToMergeOn: ["Name"] }, records: [{ fields: { Priority: 1 } }] },
    });
    expect(missing.status).toBe(422);
    const unknown = await emulator.call("PATCH", FEATURES, {
      body: { performUpsert: { fieldsToMergeOn: ["Nope"] }, records: [{ fields: { Name: "x" } }] },
    });
    expect(unknown.json).toEqual(errorOf("UNKNOWN_FIELD_NAME"));
    const four = await emulator.call("PATCH", FEATURES, {
      body: {
        performUpsert: { fieldsToMergeOn: ["Name", "Notes", "Status", "Due"] },
        records: [{ fields: { Name: "x" } }],
      },
    });
    expect(four.json).toEqual(errorOf("INVALID_REQUEST_UNKNOWN"));
  });
});

describe("DELETE", () => {
  it("deletes up to 10 by records[] and answers {records: [{id, deleted: true}]}", async () => {
    const [a, b] = features().records;
    const { status, json } = await emulator.call(
      "DELETE",
      `${FEATURES}?records%5B%5D=${a!.id}&records%5B%5D=${b!.id}`,
    );
    expect(status).toBe(200);
    expect(json).toEqual({
      records: [
        { id: a!.id, deleted: true },
        { id: b!.id, deleted: true },
      ],
    });
    expect((await emulator.call("GET", `${FEATURES}/${a!.id}`)).status).toBe(404);
    expect(changes.map((c) => c.change)).toEqual([
      { kind: "records.destroyed", baseId: roadmapId, tableId: features().id, recordIds: [a!.id, b!.id] },
    ]);
  });

  it("deletes one by /{recordId} and answers {id, deleted: true}; an unknown one → 404", async () => {
    const a = features().records[0]!;
    expect((await emulator.call("DELETE", `${FEATURES}/${a.id}`)).json).toEqual({ id: a.id, deleted: true });
    expect((await emulator.call("DELETE", `${FEATURES}/${a.id}`)).status).toBe(404);
  });

  it("more than 10, none, or records= without [] → 422 INVALID_RECORDS; an unknown id → ROW_DOES_NOT_EXIST", async () => {
    const query = features()
      .records.slice(0, 11)
      .map((r) => `records%5B%5D=${r.id}`)
      .join("&");
    expect((await emulator.call("DELETE", `${FEATURES}?${query}`)).json).toEqual(errorOf("INVALID_RECORDS"));
    expect((await emulator.call("DELETE", FEATURES)).json).toEqual(errorOf("INVALID_RECORDS"));
    expect((await emulator.call("DELETE", `${FEATURES}?records=${features().records[0]!.id}`)).json).toEqual(
      errorOf("INVALID_RECORDS"),
    );
    expect((await emulator.call("DELETE", `${FEATURES}?records%5B%5D=recAAAAAAAAAAAAAA`)).json).toEqual(
      errorOf("ROW_DOES_NOT_EXIST"),
    );
  });
});

describe("scopes and permissions", () => {
  it("writes need data.records:write", async () => {
    const readOnly = (await loginAutoApproved(emulator.url, "data.records:read")).access_token;
    const { status, json } = await emulator.call("POST", FEATURES, {
      body: { fields: { Name: "x" } },
      token: readOnly,
    });
    expect(status).toBe(403);
    expect(json).toEqual(errorOf("INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND"));
  });

  it("reads need data.records:read", async () => {
    const writeOnly = (await loginAutoApproved(emulator.url, "data.records:write")).access_token;
    expect((await emulator.call("GET", FEATURES, { token: writeOnly })).status).toBe(403);
    expect(
      (await emulator.call("GET", `${FEATURES}/${features().records[0]!.id}`, { token: writeOnly })).status,
    ).toBe(403);
  });

  it("a base the user can only read refuses writes (Hiring Pipeline)", async () => {
    const hiring = emulator.state.data.bases[2]!.id;
    expect(
      (await emulator.call("POST", `/v0/${hiring}/Candidates`, { body: { fields: { Name: "x" } } })).status,
    ).toBe(403);
  });
});

/**
 * Reading records over HTTP: get one, list by GET and by POST listRecords, and every list option
 * (view, sort, fields, filterByFormula, maxRecords, pageSize, offset, cellFormat, field ids).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RecordsEmulator, startRecordsEmulator } from "./records/testing.js";
import { createSampleData } from "./sample-data.js";
import { loginAutoApproved } from "./testing.js";

const data = createSampleData();
const roadmap = data.bases[0]!;
const features = roadmap.tables.find((t) => t.name === "Features")!;
const releases = roadmap.tables.find((t) => t.name === "Releases")!;
const field = (name: string) => features.fields.find((f) => f.name === name)!;
const ids = (json: Record<string, unknown>) => (json.records as { id: string }[]).map((r) => r.id);
const errorOf = (type: string) => ({ error: { type, message: expect.any(String) } });
const FEATURES = `/v0/${roadmap.id}/${features.id}`;

let emulator: RecordsEmulator;
beforeAll(async () => {
  emulator = await startRecordsEmulator();
});
afterAll(() => emulator.close());

describe("GET /v0/{base}/{table}/{recordId}", () => {
  it("returns the record: id, createdTime and its non-empty fields", async () => {
    const record = features.records[0]!;
    const { status, json } = await emulator.call("GET", `${FEATURES}/${record.id}`);
    expect(status).toBe(200);
    expect(json).toEqual({ id: record.id, createdTime: record.createdTime, fields: record.fields });
    // Feature 1 has no Notes and an unchecked box: empty cells are left out, as Airtable does.
    expect(json.fields).not.toHaveProperty("Notes");
    expect(json.fields).not.toHaveProperty("Shipped");
  });

  it("an unknown record → 404 NOT_FOUND", async () => {
    const { status, json } = await emulator.call("GET", `${FEATURES}/recAAAAAAAAAAAAAA`);
    expect(status).toBe(404);
    expect(json).toEqual(errorOf("NOT_FOUND"));
  });

  it("returnFieldsByFieldId=true keys the fields by field id", async () => {
    const record = features.records[1]!;
    const { json } = await emulator.call("GET", `${FEATURES}/${record.id}?returnFieldsByFieldId=true`);
    expect(json.fields).toMatchObject({
      [field("Name").id]: "Feature 2",
      [field("Notes").id]: expect.any(String),
    });
    expect(json.fields).not.toHaveProperty("Name");
  });

  it("a computed createdTime field carries the record's createdTime", async () => {
    const record = releases.records[0]!;
    const { json } = await emulator.call("GET", `/v0/${roadmap.id}/Releases/${record.id}`);
    expect(json.fields).toMatchObject({ Created: record.createdTime });
  });
});

describe("list options", () => {
  it("returnFieldsByFieldId on a list", async () => {
    const { json } = await emulator.call("GET", `${FEATURES}?maxRecords=1&returnFieldsByFieldId=true`);
    expect((json.records as { fields: object }[])[0]!.fields).toHaveProperty(field("Name").id);
  });

  it("fields[] takes names or ids; an unknown one → 422 UNKNOWN_FIELD_NAME", async () => {
    const byId = await emulator.call("GET", `${FEATURES}?maxRecords=1&fields%5B%5D=${field("Name").id}`);
    expect((byId.json.records as { fields: object }[])[0]!.fields).toEqual({ Name: "Feature 1" });
    const unknown = await emulator.call("GET", `${FEATURES}?fields%5B%5D=Nope`);
    expect(unknown).toEqual({ status: 422, json: errorOf("UNKNOWN_FIELD_NAME") });
  });

  it("sort[] by field name, desc then asc, ties in table order", async () => {
    const { json } = await emulator.call(
      "GET",
      `${FEATURES}?pageSize=5&sort%5B0%5D%5Bfield%5D=Priority&sort%5B0%5D%5Bdirection%5D=desc&sort%5B1%5D%5Bfield%5D=Name`,
    );
    const expected = [...features.records]
      .sort(
        (a, b) =>
          Number(b.fields.Priority) - Number(a.fields.Priority) ||
          String(a.fields.Name).localeCompare(String(b.fields.Name)),
      )
      .slice(0, 5)
      .map((r) => r.id);
    expect(ids(json)).toEqual(expected);
  });

  it("a single select sorts by its choices' order, not alphabetically", async () => {
    const { json } = await emulator.call(
      "GET",
      `/v0/${roadmap.id}/Features?pageSize=100&sort%5B0%5D%5Bfield%5D=Status`,
    );
    const statuses = (json.records as { fields: { Status: string } }[]).map((r) => r.fields.Status);
    expect(statuses.slice(0, 3)).toEqual(["Idea", "Idea", "Idea"]);
    expect(statuses.at(-1)).toBe("Planned");
  });

  it("a sort with an unknown field → UNKNOWN_FIELD_NAME; a bad direction → 422", async () => {
    expect((await emulator.call("GET", `${FEATURES}?sort%5B0%5D%5Bfield%5D=Nope`)).json).toEqual(
      errorOf("UNKNOWN_FIELD_NAME"),
    );
    const bad = await emulator.call(
      "GET",
      `${FEATURES}?sort%5B0%5D%5Bfield%5D=Name&sort%5B0%5D%5Bdirection%5D=up`,
    );
    expect(bad).toEqual({ status: 422, json: errorOf("INVALID_REQUEST_UNKNOWN") });
  });

  it("view by name or id: a view without a filter lists all records in table order", async () => {
    const grid = features.views.find((v) => v.name === "Grid view")!;
    const byName = await emulator.call(
      "GET",
      `${FEATURES}?view=${encodeURIComponent("Grid view")}&pageSize=100`,
    );
    const byId = await emulator.call("GET", `${FEATURES}?view=${grid.id}&pageSize=100`);
    expect(ids(byName.json)).toEqual(features.records.slice(0, 100).map((r) => r.id));
    expect(ids(byId.json)).toEqual(ids(byName.json));
  });

  it("a view's stored sort orders the list; sort[] replaces it", async () => {
    const { json } = await emulator.call(
      "GET",
      `${FEATURES}?view=${encodeURIComponent("By status")}&pageSize=3`,
    );
    const first = json.records as { fields: { Priority: number; Name: string } }[];
    expect(first.map((r) => r.fields.Priority)).toEqual([4, 4, 4]);
    expect(first.map((r) => r.fields.Name)).toEqual([...first.map((r) => r.fields.Name)].sort());
    const overridden = await emulator.call(
      "GET",
      `${FEATURES}?view=${encodeURIComponent("By status")}&pageSize=3&sort%5B0%5D%5Bfield%5D=Priority`,
    );
    expect(
      (overridden.json.records as { fields: { Priority?: number } }[]).map((r) => r.fields.Priority ?? 0),
    ).toEqual([0, 0, 0]);
  });

  it("an unknown view → 422 VIEW_NAME_NOT_FOUND", async () => {
    expect(await emulator.call("GET", `${FEATURES}?view=Nope`)).toEqual({
      status: 422,
      json: errorOf("VIEW_NAME_NOT_FOUND"),
    });
  });

  it("maxRecords must be a positive integer", async () => {
    expect((await emulator.call("GET", `${FEATURES}?maxRecords=0`)).status).toBe(422);
    expect((await emulator.call("GET", `${FEATURES}?maxRecords=x`)).json).toEqual(
      errorOf("INVALID_REQUEST_UNKNOWN"),
    );
  });

  it("a malformed offset → INVALID_OFFSET_VALUE", async () => {
    expect(await emulator.call("GET", `${FEATURES}?offset=garbage`)).toEqual({
      status: 422,
      json: errorOf("INVALID_OFFSET_VALUE"),
    });
  });

  it("returnFieldsByFieldId must be a boolean", async () => {
    expect((await emulator.call("GET", `${FEATURES}?returnFieldsByFieldId=maybe`)).status).toBe(422);
  });
});

describe("filterByFormula (evaluated by the formula engine)", () => {
  it("keeps the records the formula is true for", async () => {
    const formula = encodeURIComponent("{Status} = 'Shipped'");
    const { status, json } = await emulator.call(
      "GET",
      `${FEATURES}?filterByFormula=${formula}&pageSize=100`,
    );
    expect(status).toBe(200);
    const expected = features.records.filter((r) => r.fields.Status === "Shipped").slice(0, 100);
    expect(ids(json)).toEqual(expected.map((r) => r.id));
  });

  it("a link field reads as the linked records' primary values, as Airtable shows it", async () => {
    const first = releases.records[0]!;
    const formula = encodeURIComponent(`{Release} = '${String(first.fields.Version)}'`);
    const { status, json } = await emulator.call(
      "GET",
      `${FEATURES}?filterByFormula=${formula}&pageSize=100`,
    );
    expect(status).toBe(200);
    const linked = features.records.filter(
      (r) => (r.fields.Release as string[] | undefined)?.[0] === first.id,
    );
    expect(linked.length).toBeGreaterThan(0);
    expect(ids(json)).toEqual(linked.slice(0, 100).map((r) => r.id));
  });

  it("a view's stored filter applies (Calendar shows shipped features only)", async () => {
    const { json } = await emulator.call("GET", `${FEATURES}?view=Calendar&pageSize=100`);
    expect(ids(json)).toEqual(features.records.filter((r) => r.fields.Shipped === true).map((r) => r.id));
  });

  it("a formula naming an unknown field → 422 INVALID_FILTER_BY_FORMULA", async () => {
    const formula = encodeURIComponent("{No such field} = 1");
    expect(await emulator.call("GET", `${FEATURES}?filterByFormula=${formula}`)).toEqual({
      status: 422,
      json: errorOf("INVALID_FILTER_BY_FORMULA"),
    });
  });
});

describe("POST /v0/{base}/{table}/listRecords", () => {
  it("takes the options as JSON and answers like GET", async () => {
    const body = { pageSize: 2, fields: ["Name"], sort: [{ field: "Name", direction: "desc" }] };
    const post = await emulator.call("POST", `${FEATURES}/listRecords`, { body });
    const get = await emulator.call(
      "GET",
      `${FEATURES}?pageSize=2&fields%5B%5D=Name&sort%5B0%5D%5Bfield%5D=Name&sort%5B0%5D%5Bdirection%5D=desc`,
    );
    expect(post.status).toBe(200);
    expect(post.json).toEqual(get.json);
    const next = await emulator.call("POST", `${FEATURES}/listRecords`, {
      body: { ...body, offset: post.json.offset },
    });
    expect(ids(next.json)).toHaveLength(2);
    expect(ids(next.json)).not.toContain(ids(post.json)[0]);
  });

  it("an unknown key → 422 INVALID_REQUEST_UNKNOWN (parameter validation failed)", async () => {
    const { status, json } = await emulator.call("POST", `${FEATURES}/listRecords`, {
      body: { pageSize: 2, color: "red" },
    });
    expect(status).toBe(422);
    expect(json).toEqual({
      error: {
        type: "INVALID_REQUEST_UNKNOWN",
        message: "Invalid request: parameter validation failed. Check your request data.",
      },
    });
  });

  it("a body that is not JSON → 422 INVALID_REQUEST_BODY; another content type → 422", async () => {
    expect((await emulator.call("POST", `${FEATURES}/listRecords`, { raw: "{nope" })).json).toEqual(
      errorOf("INVALID_REQUEST_BODY"),
    );
    const form = await emulator.call("POST", `${FEATURES}/listRecords`, {
      raw: "pageSize=2",
      contentType: "application/x-www-form-urlencoded",
    });
    expect(form.status).toBe(422);
  });

  it("pageSize over 100 in the body → INVALID_PAGE_SIZE_ARGUMENT", async () => {
    expect(
      (await emulator.call("POST", `${FEATURES}/listRecords`, { body: { pageSize: 101 } })).json,
    ).toEqual(errorOf("INVALID_PAGE_SIZE_ARGUMENT"));
  });

  it("needs data.records:read", async () => {
    const schemaOnly = (await loginAutoApproved(emulator.url, "schema.bases:read")).access_token;
    const { status } = await emulator.call("POST", `${FEATURES}/listRecords`, {
      body: {},
      token: schemaOnly,
    });
    expect(status).toBe(403);
  });
});

describe("cellFormat=string", () => {
  it("needs timeZone and userLocale", async () => {
    expect(await emulator.call("GET", `${FEATURES}?cellFormat=string`)).toEqual({
      status: 422,
      json: errorOf("INVALID_REQUEST_UNKNOWN"),
    });
    expect(
      (await emulator.call("GET", `${FEATURES}?cellFormat=string&timeZone=Mars%2FOlympus&userLocale=en-us`))
        .status,
    ).toBe(422);
    expect((await emulator.call("GET", `${FEATURES}?cellFormat=csv`)).status).toBe(422);
  });

  it("formats numbers, currency, dates, checkboxes and links as text", async () => {
    const { status, json } = await emulator.call(
      "GET",
      `${FEATURES}?cellFormat=string&timeZone=Europe%2FParis&userLocale=en-us&pageSize=4`,
    );
    expect(status).toBe(200);
    const [first, , , fourth] = json.records as { fields: Record<string, unknown> }[];
    expect(first!.fields).toMatchObject({
      Name: "Feature 1",
      Priority: "0",
      Estimate: "$0.50",
      Due: "2024-01-01",
      Release: "v1.0",
    });
    expect(fourth!.fields).toMatchObject({ Shipped: "checked" });
  });

  it("POST listRecords takes timeZone and userLocale from the query string, as airtable.js sends them", async () => {
    const { status, json } = await emulator.call(
      "POST",
      `/v0/${roadmap.id}/Releases/listRecords?timeZone=America%2FNew_York&userLocale=en-us`,
      { body: { cellFormat: "string", pageSize: 1 } },
    );
    expect(status).toBe(200);
    // Created is 2024-01-15T09:00Z: 04:00 in New York.
    expect((json.records as { fields: Record<string, unknown> }[])[0]!.fields).toMatchObject({
      Created: "1/15/2024 4:00am",
    });
  });
});

import { afterAll, describe, expect, it } from "vitest";
import { isAirlockError } from "../shared/errors.js";
import { type RunningEmulator, startEmulator } from "./index.js";
import { buildSeedData, parseSeedData, type SeedData } from "./seed-data.js";
import { api, loginAutoApproved } from "./testing.js";

const SEED: SeedData = {
  user: { email: "grace@example.com", name: "Grace Hopper" },
  bases: [
    {
      name: "Inventory",
      tables: [
        {
          name: "Parts",
          fields: [
            { name: "Name", type: "singleLineText" },
            { name: "Count", type: "number", options: { precision: 0 } },
            { name: "Kind", type: "singleSelect", options: { choices: [{ name: "Bolt" }, { name: "Nut" }] } },
            { name: "Supplier", type: "multipleRecordLinks", options: { linkedTableId: "Suppliers" } },
            { name: "Total", type: "formula", options: { formula: "{Count} * 2" } },
          ],
          views: [
            { name: "Grid view" },
            { name: "Most first", sort: [{ field: "Count", direction: "desc" }] },
          ],
          records: [
            { fields: { Name: "M3 bolt", Count: 40, Kind: "Bolt", Supplier: ["recSupplierAcme01"] } },
            { fields: { Name: "M3 nut", Count: 0, Kind: "Nut", Supplier: [] } },
          ],
        },
        {
          id: "tblSuppliers00001",
          name: "Suppliers",
          fields: [{ id: "fldSupplierName01", name: "Name", type: "singleLineText" }],
          records: [
            { id: "recSupplierAcme01", createdTime: "2023-05-01T10:00:00.000Z", fields: { Name: "Acme" } },
          ],
        },
      ],
    },
  ],
};

function problem(raw: unknown): { message: string; hint: string } {
  try {
    parseSeedData(raw);
  } catch (err) {
    if (isAirlockError(err, "config_invalid")) return { message: err.message, hint: err.hint ?? "" };
    throw err;
  }
  throw new Error("expected a config_invalid error");
}

/** SEED with one change made by `edit` (on a deep copy). */
function seedWith(edit: (seed: SeedData) => void): unknown {
  const copy = structuredClone(SEED);
  edit(copy);
  return copy;
}

describe("buildSeedData", () => {
  const data = buildSeedData(parseSeedData(SEED));
  const [inventory] = data.bases;
  const [parts, suppliers] = inventory!.tables;

  it("keeps given ids, generates the others in Airtable's shape, the same on every build", () => {
    expect(suppliers?.id).toBe("tblSuppliers00001");
    expect(suppliers?.records[0]).toEqual({
      id: "recSupplierAcme01",
      createdTime: "2023-05-01T10:00:00.000Z",
      fields: { Name: "Acme" },
    });
    expect(inventory?.id).toMatch(/^app[A-Za-z0-9]{14}$/);
    expect(parts?.id).toMatch(/^tbl[A-Za-z0-9]{14}$/);
    expect(data.user).toEqual({
      id: expect.stringMatching(/^usr[A-Za-z0-9]{14}$/),
      email: "grace@example.com",
      name: "Grace Hopper",
    });
    expect(buildSeedData(parseSeedData(SEED))).toEqual(data);
  });

  it("first field primary; link by table name; choice ids; computed fields kept; a grid view by default", () => {
    expect(parts?.primaryFieldId).toBe(parts?.fields[0]?.id);
    expect(parts?.fields[3]?.options).toEqual({
      linkedTableId: "tblSuppliers00001",
      isReversed: false,
      prefersSingleRecordLink: false,
    });
    expect(parts?.fields[2]?.options?.choices).toEqual([
      { id: expect.stringMatching(/^sel/), name: "Bolt" },
      { id: expect.stringMatching(/^sel/), name: "Nut" },
    ]);
    expect(parts?.fields[4]).toMatchObject({ type: "formula", options: { formula: "{Count} * 2" } });
    expect(suppliers?.views).toEqual([
      { id: expect.stringMatching(/^viw/), name: "Grid view", type: "grid" },
    ]);
    expect(data.viewQueries?.get(parts!.views[1]!.id)).toEqual({
      sort: [{ field: "Count", direction: "desc" }],
    });
  });

  it("records keyed by field name; empty values left out as Airtable does; permission level create", () => {
    expect(parts?.records.map((r) => r.fields)).toEqual([
      { Name: "M3 bolt", Count: 40, Kind: "Bolt", Supplier: ["recSupplierAcme01"] },
      { Name: "M3 nut", Count: 0, Kind: "Nut" },
    ]);
    expect(inventory?.permissionLevel).toBe("create");
    expect(data.baseById.get(inventory!.id)).toBe(inventory);
  });
});

describe("parseSeedData refuses, naming the JSON path and the fix", () => {
  it.each([
    ["not an object", "nope", "(top level)"],
    ["no bases", { bases: [] }, "bases: needs at least one base"],
    ["an unknown key", seedWith((s) => Object.assign(s.bases[0]!, { colour: 1 })), "bases[0]"],
    [
      "a bad id",
      seedWith((s) => Object.assign(s.bases[0]!, { id: "app123" })),
      'bases[0].id: must be "app" and 14 letters or digits',
    ],
    [
      "an id used twice",
      seedWith((s) => Object.assign(s.bases[0]!.tables[0]!, { id: "tblSuppliers00001" })),
      "bases[0].tables[1].id: the id tblSuppliers00001 is used twice",
    ],
    [
      "a table without fields",
      seedWith((s) => Object.assign(s.bases[0]!.tables[1]!, { fields: [] })),
      "bases[0].tables[1].fields: needs at least one field",
    ],
    [
      "two tables named alike",
      seedWith((s) => Object.assign(s.bases[0]!.tables[1]!, { name: "PARTS" })),
      "bases[0].tables[1].name: another table is already named",
    ],
    [
      "two fields named alike",
      seedWith((s) => s.bases[0]!.tables[0]!.fields.push({ name: "name", type: "email" })),
      "bases[0].tables[0].fields[5].name",
    ],
    [
      "an unknown field type",
      seedWith((s) => Object.assign(s.bases[0]!.tables[0]!.fields[0]!, { type: "text" })),
      "bases[0].tables[0].fields[0]: INVALID_REQUEST_UNKNOWN",
    ],
    [
      "bad options",
      seedWith((s) => Object.assign(s.bases[0]!.tables[0]!.fields[1]!, { options: { precision: 12 } })),
      "bases[0].tables[0].fields[1]: INVALID_FIELD_TYPE_OPTIONS_FOR_CREATE",
    ],
    [
      "a link to no table",
      seedWith((s) =>
        Object.assign(s.bases[0]!.tables[0]!.fields[3]!, { options: { linkedTableId: "Vendors" } }),
      ),
      "bases[0].tables[0].fields[3]",
    ],
    [
      "a checkbox as primary field",
      seedWith((s) =>
        Object.assign(s.bases[0]!.tables[1]!.fields[0]!, {
          type: "checkbox",
          options: { icon: "check", color: "greenBright" },
        }),
      ),
      "bases[0].tables[1].fields[0].type: a checkbox field cannot be the primary field",
    ],
    [
      "a record naming no field",
      seedWith((s) => Object.assign(s.bases[0]!.tables[1]!.records![0]!.fields, { Phone: "1" })),
      'bases[0].tables[1].records[0].fields.Phone: the table has no field "Phone"',
    ],
    [
      "a value of the wrong type",
      seedWith((s) => Object.assign(s.bases[0]!.tables[0]!.records![0]!.fields, { Count: "forty" })),
      "records[0].fields.Count: a number field holds a number",
    ],
    [
      "a choice that does not exist",
      seedWith((s) => Object.assign(s.bases[0]!.tables[0]!.records![0]!.fields, { Kind: "Washer" })),
      '"Washer" is not a choice',
    ],
    [
      "a link to an unknown record",
      seedWith((s) =>
        Object.assign(s.bases[0]!.tables[0]!.records![0]!.fields, { Supplier: ["recAAAAAAAAAAAAAA"] }),
      ),
      "no record recAAAAAAAAAAAAAA in the linked table Suppliers",
    ],
    [
      "a sort by an unknown field",
      seedWith((s) => Object.assign(s.bases[0]!.tables[0]!.views![1]!, { sort: [{ field: "Size" }] })),
      "views[1].sort[0].field",
    ],
    [
      "a bad createdTime",
      seedWith((s) => Object.assign(s.bases[0]!.tables[1]!.records![0]!, { createdTime: "yesterday" })),
      "records[0].createdTime: must be an ISO 8601 time",
    ],
    ["a bad email", seedWith((s) => Object.assign(s.user!, { email: "grace" })), "user.email"],
  ])("%s", (_what, raw, expected) => {
    const { message, hint } = problem(raw);
    expect(message).toContain("Emulator option data: ");
    expect(message).toContain(expected);
    expect(hint.length).toBeGreaterThan(0);
  });
});

describe("startEmulator({ data })", () => {
  let emulator: RunningEmulator | undefined;
  afterAll(() => emulator?.close());

  it("serves the seed instead of the sample: bases, schema and records", async () => {
    emulator = await startEmulator({ autoApprove: true, data: SEED });
    const { access_token } = await loginAutoApproved(
      emulator.url,
      "schema.bases:read data.records:read user.email:read",
    );
    const bases = await api(emulator.url, "/v0/meta/bases", access_token);
    const [base] = bases.json.bases as { id: string; name: string }[];
    expect(bases.json.bases).toEqual([{ id: base?.id, name: "Inventory", permissionLevel: "create" }]);
    expect((await api(emulator.url, "/v0/meta/whoami", access_token)).json.email).toBe("grace@example.com");
    const records = await api(emulator.url, `/v0/${base?.id}/Suppliers`, access_token);
    expect(records.json).toEqual({
      records: [
        { id: "recSupplierAcme01", createdTime: "2023-05-01T10:00:00.000Z", fields: { Name: "Acme" } },
      ],
    });
  });

  it("bad seed data fails the start with config_invalid", async () => {
    await expect(startEmulator({ data: { bases: "x" } })).rejects.toThrow(/Emulator option data: bases/);
  });
});

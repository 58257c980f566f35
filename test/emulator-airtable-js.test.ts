/**
 * The official client, airtable.js 0.12.2, against a real emulator over HTTP: what an integration
 * written for Airtable does must work unchanged against the emulator.
 */
import Airtable from "airtable";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../src/emulator/index.js";
import { createSampleData } from "../src/emulator/sample-data.js";
import { loginAutoApproved } from "../src/emulator/testing.js";

const data = createSampleData();
const roadmap = data.bases[0]!;
const features = roadmap.tables.find((t) => t.name === "Features")!;

let emulator: RunningEmulator;
let base: Airtable.Base;
beforeAll(async () => {
  emulator = await startEmulator({ autoApprove: true });
  const { access_token } = await loginAutoApproved(emulator.url, "data.records:read data.records:write");
  // airtable.js retries 429s itself; a failing test should show the 429 instead.
  base = new Airtable({ apiKey: access_token, endpointUrl: emulator.url, noRetryIfRateLimited: true }).base(
    roadmap.id,
  );
});
afterAll(() => emulator.close());
// 5 requests per second per base, as on Airtable: each test starts in a fresh window.
beforeEach(() => emulator.advanceClock(31));

describe("airtable.js reads", () => {
  it("select().all() pages through every record", async () => {
    const records = await base("Features").select({ pageSize: 100 }).all();
    expect(records.map((r) => r.id)).toEqual(features.records.map((r) => r.id));
    expect(records[1]!.get("Name")).toBe("Feature 2");
  });

  it("eachPage() delivers pages of pageSize", async () => {
    const sizes: number[] = [];
    await base("Features")
      .select({ pageSize: 50, maxRecords: 120 })
      .eachPage((page, next) => {
        sizes.push(page.length);
        next();
      });
    expect(sizes).toEqual([50, 50, 20]);
  });

  it("select with filterByFormula, sort and fields", async () => {
    const records = await base("Features")
      .select({
        filterByFormula: "{Status} = 'Shipped'",
        sort: [{ field: "Priority", direction: "desc" }],
        fields: ["Name", "Priority"],
        maxRecords: 5,
      })
      .firstPage();
    expect(records).toHaveLength(5);
    const priorities = records.map((r) => Number(r.get("Priority") ?? 0));
    expect(priorities).toEqual([...priorities].sort((a, b) => b - a));
    expect(Object.keys(records[0]!.fields).sort()).toEqual(expect.arrayContaining(["Name"]));
    expect(records[0]!.get("Status")).toBeUndefined();
  });

  it("select with a view, and over POST listRecords (method: 'post')", async () => {
    const byView = await base("Features").select({ view: "By status", maxRecords: 3 }).firstPage();
    expect(byView.map((r) => r.get("Priority"))).toEqual([4, 4, 4]);
    const byPost = await base("Features")
      .select({ view: "By status", maxRecords: 3, method: "post" })
      .firstPage();
    expect(byPost.map((r) => r.id)).toEqual(byView.map((r) => r.id));
  });

  it("find() gets one record; an unknown id rejects with NOT_FOUND", async () => {
    const record = await base("Features").find(features.records[2]!.id);
    expect(record.fields).toEqual(features.records[2]!.fields);
    await expect(base("Features").find("recAAAAAAAAAAAAAA")).rejects.toMatchObject({ statusCode: 404 });
  });
});

describe("airtable.js writes", () => {
  it("create (one and many), update, replace and destroy", async () => {
    const one = await base("Features").create({ Name: "From airtable.js", Priority: 1 });
    expect(one.id).toMatch(/^rec/);
    expect(one.get("Name")).toBe("From airtable.js");
    const many = await base("Features").create([
      { fields: { Name: "Batch 1" } },
      { fields: { Name: "Batch 2" } },
    ]);
    expect(many.map((r) => r.get("Name"))).toEqual(["Batch 1", "Batch 2"]);

    const updated = await base("Features").update(one.id, { Notes: "merged" });
    expect(updated.fields).toEqual({ Name: "From airtable.js", Priority: 1, Notes: "merged" });
    const replaced = await base("Features").replace(one.id, { Name: "Replaced" });
    expect(replaced.fields).toEqual({ Name: "Replaced" });
    const batch = await base("Features").update([{ id: many[0]!.id, fields: { Priority: 3 } }], {
      typecast: true,
    });
    expect(batch[0]!.get("Priority")).toBe(3);

    emulator.advanceClock(31);
    const gone = await base("Features").destroy(one.id);
    expect(gone.id).toBe(one.id);
    const goneMany = await base("Features").destroy(many.map((r) => r.id));
    expect(goneMany.map((r) => r.id)).toEqual(many.map((r) => r.id));
    await expect(base("Features").find(one.id)).rejects.toMatchObject({ statusCode: 404 });
  });

  it("typecast creates a select choice; a bad value rejects with Airtable's error type", async () => {
    const record = await base("Features").create({ Name: "Typecast", Status: "Someday" }, { typecast: true });
    expect(record.get("Status")).toBe("Someday");
    await expect(base("Features").create({ Priority: "high" })).rejects.toMatchObject({
      error: "INVALID_VALUE_FOR_COLUMN",
      statusCode: 422,
    });
  });
});

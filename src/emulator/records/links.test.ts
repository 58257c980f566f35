/**
 * Links are two-sided, as in Airtable: a link written on one side shows on the other, an unlinked
 * record leaves the other side, and a deleted record leaves every link cell that pointed at it.
 */
import { afterEach, beforeEach, expect, it } from "vitest";
import type { BaseChange } from "../changes.js";
import { loginAutoApproved } from "../testing.js";
import { READ_WRITE, type RecordsEmulator, startRecordsEmulator } from "./testing.js";

let emulator: RecordsEmulator;
let changes: BaseChange[];
let base: string;

beforeEach(async () => {
  emulator = await startRecordsEmulator();
  changes = [];
  emulator.state.changes.subscribe((change) => changes.push(change));
  base = emulator.state.data.bases[0]!.id;
});
afterEach(() => emulator.close());

const roadmap = () => emulator.state.data.bases[0]!;
const table = (name: string) => roadmap().tables.find((t) => t.name === name)!;
const cell = (tableName: string, recordId: string, field: string) =>
  table(tableName).records.find((r) => r.id === recordId)?.fields[field];

/** A two-sided link: a "Features" field on Releases, whose inverse Airtable adds to Features. */
async function linkFeaturesFromReleases(): Promise<string> {
  const token = (await loginAutoApproved(emulator.url, `${READ_WRITE} schema.bases:write`)).access_token;
  const made = await emulator.call("POST", `/v0/meta/bases/${base}/tables/${table("Releases").id}/fields`, {
    token,
    body: { name: "Features", type: "multipleRecordLinks", options: { linkedTableId: table("Features").id } },
  });
  expect(made.status).toBe(200);
  const inverse = table("Features").fields.find(
    (f) => f.id === (made.json.options as { inverseLinkFieldId: string }).inverseLinkFieldId,
  );
  expect(inverse).toBeDefined();
  return inverse!.name;
}

it("a link written on one side appears on the other, and leaves it when unlinked", async () => {
  const inverse = await linkFeaturesFromReleases();
  const release = table("Releases").records[0]!.id;
  const [a, b] = table("Features").records.map((r) => r.id) as [string, string];
  const set = await emulator.call("PATCH", `/v0/${base}/Releases/${release}`, {
    body: { fields: { Features: [a, b] } },
  });
  expect(set.status).toBe(200);
  expect(cell("Features", a, inverse)).toEqual([release]);
  expect(cell("Features", b, inverse)).toEqual([release]);
  const featureChanges = changes.filter(
    (c) => c.kind === "records.changed" && c.tableId === table("Features").id,
  );
  expect(featureChanges).toHaveLength(1);

  await emulator.call("PATCH", `/v0/${base}/Releases/${release}`, { body: { fields: { Features: [b] } } });
  expect(cell("Features", a, inverse)).toBeUndefined();
  expect(cell("Features", b, inverse)).toEqual([release]);
  // Read back over HTTP, as a client sees it.
  const read = await emulator.call("GET", `/v0/${base}/Features/${b}`);
  expect((read.json.fields as Record<string, unknown>)[inverse]).toEqual([release]);
});

it("a new record's links are mirrored too", async () => {
  const inverse = await linkFeaturesFromReleases();
  const feature = table("Features").records[3]!.id;
  const made = await emulator.call("POST", `/v0/${base}/Releases`, {
    body: { fields: { Version: "v9.0", Features: [feature] } },
  });
  expect(made.status).toBe(200);
  expect(cell("Features", feature, inverse)).toEqual([made.json.id]);
});

it("a deleted record leaves every link cell that pointed at it (one-sided links too)", async () => {
  const release = table("Releases").records[0]!;
  const linking = table("Features").records.filter((r) =>
    (r.fields.Release as string[] | undefined)?.includes(release.id),
  );
  expect(linking.length).toBeGreaterThan(0);
  const gone = await emulator.call("DELETE", `/v0/${base}/Releases/${release.id}`);
  expect(gone.json).toEqual({ id: release.id, deleted: true });
  for (const record of linking) expect(cell("Features", record.id, "Release")).toBeUndefined();
  const reported = changes.find((c) => c.kind === "records.changed" && c.tableId === table("Features").id);
  expect(reported?.kind === "records.changed" && reported.changes.length).toBe(linking.length);
});

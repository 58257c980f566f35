import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { findTable, type SampleBase, type SampleTable } from "./sample-data.js";
import { type ServedEmulator, send, serveEmulator } from "./test-support.js";
import { loginAutoApproved } from "./testing.js";

let emulator: ServedEmulator;
let token: string;
let roadmap: SampleBase;
let hiring: SampleBase;
let features: SampleTable;

beforeAll(async () => {
  emulator = await serveEmulator({ autoApprove: true });
  [roadmap, , hiring] = emulator.state.data.bases as [SampleBase, SampleBase, SampleBase];
  features = findTable(roadmap, "Features")!;
});
afterAll(() => emulator.close());
beforeEach(async () => {
  emulator.state.reset();
  token = (await loginAutoApproved(emulator.url, "data.recordComments:read data.recordComments:write"))
    .access_token;
});

const commentsPath = (recordId: string, table = features.id, base = roadmap.id) =>
  `/v0/${base}/${table}/${recordId}/comments`;
const call = (method: string, path: string, body?: unknown, bearer = token) =>
  send(emulator.url, method, path, bearer, body);
const error = (type: string) => ({ error: { type, message: expect.any(String) } });

describe("record comments", () => {
  it("POST creates a comment by the token's user; GET lists it with Airtable's fields", async () => {
    const record = features.records[0]!;
    const user = emulator.state.data.user;
    const created = await call("POST", commentsPath(record.id), { text: "Looks good" });
    expect(created).toEqual({
      status: 200,
      json: {
        id: expect.stringMatching(/^com[A-Za-z0-9]{14}$/),
        author: { id: user.id, email: user.email, name: user.name },
        text: "Looks good",
        createdTime: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
        lastUpdatedTime: null,
      },
    });
    expect(Date.parse(String(created.json.createdTime))).not.toBeNaN();
    const listed = await call("GET", commentsPath(record.id));
    expect(listed).toEqual({ status: 200, json: { comments: [created.json], offset: null } });
  });

  it("lists newest first and pages with pageSize ≤ 100 and offset", async () => {
    const record = features.records[1]!;
    for (let i = 1; i <= 3; i++) {
      await call("POST", commentsPath(record.id), { text: `c${i}` });
      emulator.state.clock.advance(1);
    }
    const first = await call("GET", `${commentsPath(record.id)}?pageSize=2`);
    expect((first.json.comments as { text: string }[]).map((c) => c.text)).toEqual(["c3", "c2"]);
    expect(first.json.offset).toEqual(expect.any(String));
    const second = await call(
      "GET",
      `${commentsPath(record.id)}?pageSize=2&offset=${String(first.json.offset)}`,
    );
    expect(second.json).toEqual({ comments: [expect.objectContaining({ text: "c1" })], offset: null });
    // Comments belong to their record.
    expect((await call("GET", commentsPath(features.records[2]!.id))).json.comments).toEqual([]);
  });

  it.each(["0", "101", "x"])("pageSize=%s → 422", async (pageSize) => {
    const res = await call("GET", `${commentsPath(features.records[0]!.id)}?pageSize=${pageSize}`);
    expect(res).toEqual({ status: 422, json: error("INVALID_REQUEST_UNKNOWN") });
  });

  it("an offset that is not one of ours → 422", async () => {
    const res = await call("GET", `${commentsPath(features.records[0]!.id)}?offset=itrNope/comX`);
    expect(res).toEqual({ status: 422, json: error("INVALID_REQUEST_UNKNOWN") });
  });

  it("@[usr…] mentions the user: the comment carries `mentioned`", async () => {
    const user = emulator.state.data.user;
    const created = await call("POST", commentsPath(features.records[0]!.id), { text: `Hi @[${user.id}]` });
    expect(created.json.mentioned).toEqual({
      [user.id]: { type: "user", id: user.id, displayName: user.name, email: user.email },
    });
  });

  it("PATCH changes the text and sets lastUpdatedTime; DELETE answers {id, deleted: true}", async () => {
    const path = commentsPath(features.records[0]!.id);
    const created = await call("POST", path, { text: "v1" });
    emulator.state.clock.advance(60);
    const updated = await call("PATCH", `${path}/${String(created.json.id)}`, { text: "v2" });
    expect(updated.status).toBe(200);
    expect(updated.json).toMatchObject({
      id: created.json.id,
      text: "v2",
      createdTime: created.json.createdTime,
    });
    expect(Date.parse(String(updated.json.lastUpdatedTime))).toBeGreaterThan(
      Date.parse(String(created.json.createdTime)),
    );
    const deleted = await call("DELETE", `${path}/${String(created.json.id)}`);
    expect(deleted).toEqual({ status: 200, json: { id: created.json.id, deleted: true } });
    expect((await call("GET", path)).json.comments).toEqual([]);
    expect((await call("DELETE", `${path}/${String(created.json.id)}`)).status).toBe(404);
  });

  it("the table may be named; an unknown record, table or comment is 404 NOT_FOUND", async () => {
    const record = features.records[0]!;
    expect((await call("GET", commentsPath(record.id, "Features"))).status).toBe(200);
    expect(await call("GET", commentsPath("recAAAAAAAAAAAAAA"))).toEqual({
      status: 404,
      json: { error: { type: "NOT_FOUND", message: "Record not found" } },
    });
    expect(await call("POST", commentsPath(record.id, "Nope"), { text: "x" })).toEqual({
      status: 404,
      json: { error: "NOT_FOUND" },
    });
    expect((await call("PATCH", `${commentsPath(record.id)}/comAAAAAAAAAAAAAA`, { text: "x" })).status).toBe(
      404,
    );
  });

  it.each([[{}], [{ text: "" }], [{ text: 5 }], [{ text: "x", extra: 1 }], ["not json"]])(
    "POST %j → 422",
    async (body) => {
      const res = await call("POST", commentsPath(features.records[0]!.id), body);
      expect(res).toEqual({ status: 422, json: error("INVALID_REQUEST_UNKNOWN") });
    },
  );

  it("reading needs data.recordComments:read, writing data.recordComments:write", async () => {
    const reader = (await loginAutoApproved(emulator.url, "data.recordComments:read")).access_token;
    const writer = (await loginAutoApproved(emulator.url, "data.recordComments:write")).access_token;
    const path = commentsPath(features.records[0]!.id);
    expect((await call("GET", path, undefined, reader)).status).toBe(200);
    expect(await call("POST", path, { text: "x" }, reader)).toEqual({
      status: 403,
      json: error("INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND"),
    });
    expect((await call("GET", path, undefined, writer)).status).toBe(403);
  });

  it("a read-only base can be read but not commented on", async () => {
    const candidates = findTable(hiring, "Candidates")!;
    const path = commentsPath(candidates.records[0]!.id, candidates.id, hiring.id);
    expect((await call("GET", path)).status).toBe(200);
    expect((await call("POST", path, { text: "x" })).status).toBe(403);
  });

  it("reset forgets every comment", async () => {
    const path = commentsPath(features.records[0]!.id);
    await call("POST", path, { text: "x" });
    emulator.state.reset();
    token = (await loginAutoApproved(emulator.url, "data.recordComments:read")).access_token;
    expect((await call("GET", path)).json.comments).toEqual([]);
  });

  it("comment requests count against the base's 5 requests per second", async () => {
    const path = commentsPath(features.records[0]!.id);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await call(i % 2 ? "GET" : "POST", path, i % 2 ? undefined : { text: "x" })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
  });
});

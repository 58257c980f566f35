/**
 * Connection metadata end to end (issue 12), through the real connect flow on SQLite and (with
 * AIRLOCK_TEST_DATABASE_URL) PostgreSQL: metadata given to a connect session arrives on the
 * connection, in the list, in its events and in the signed `connection.created` webhook; PATCH
 * replaces it and null clears it; a reconnect without metadata keeps it, one with metadata
 * replaces it; bad metadata is refused with the problem and the fix; none of it reaches the logs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ErrorBody } from "../src/server/http-errors.js";
import { connect, serviceStores, startTestService, type TestService } from "./security/harness.js";
import { type RecordedRequest, startRecordingServer } from "./support/recording-server.js";

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const MARKER = "mdmarker_7f3a";

describe.each(serviceStores("service-connection-metadata"))("connection metadata over HTTP (%s)", (store) => {
  let t: TestService;
  let receiver: Awaited<ReturnType<typeof startRecordingServer>>;

  const patch = (identifier: string, body: unknown) =>
    t.api(`/v1/connections/${identifier}`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const getJson = async (path: string) => (await (await t.api(path)).json()) as Record<string, unknown>;
  const hooks = () =>
    receiver.requests.map(
      (r: RecordedRequest) => JSON.parse(r.body) as { type: string; data: Record<string, unknown> },
    );

  beforeAll(async () => {
    receiver = await startRecordingServer(() => ({ status: 204 }));
    t = await startTestService({
      store,
      env: {
        AIRLOCK_WEBHOOK_URL: `${receiver.url}/hooks`,
        AIRLOCK_WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 7).toString("base64")}`,
      },
      start: { webhookPollIntervalMs: 50, keepAlive: false },
    });
  });

  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  it("carries session metadata to the connection, the list, its events and the connection.created webhook", async () => {
    const metadata = { team_id: "t_42", plan: "pro", tags: ["a", "b"], marker: MARKER, token_like: { a: 1 } };
    await connect(t, { identifier: "meta_user", metadata });
    const connection = await getJson("/v1/connections/meta_user");
    expect(connection.metadata).toEqual(metadata);
    const list = (await getJson("/v1/connections")) as { connections: Array<Record<string, unknown>> };
    expect(list.connections.find((c) => c.identifier === "meta_user")?.metadata).toEqual(metadata);
    const events = (await getJson("/v1/connections/meta_user/events")) as {
      events: Array<{ type: string; data: Record<string, unknown> }>;
    };
    expect(events.events[0]).toMatchObject({ type: "connection.created", data: { metadata } });
    await until(
      () => hooks().some((h) => h.data.identifier === "meta_user"),
      "the connection.created webhook",
    );
    const hook = hooks().find((h) => h.data.identifier === "meta_user");
    expect(hook?.type).toBe("connection.created");
    // Nested under `metadata`, untouched by the top-level filter of secret-looking keys.
    expect(hook?.data.metadata).toEqual(metadata);
  });

  it("PATCH replaces the metadata as a whole, null clears it; later events carry it", async () => {
    const replaced = await patch("meta_user", { metadata: { plan: "team" } });
    expect(replaced.status).toBe(200);
    expect(((await replaced.json()) as Record<string, unknown>).metadata).toEqual({ plan: "team" });
    expect((await getJson("/v1/connections/meta_user")).metadata).toEqual({ plan: "team" });
    const del = await t.api("/v1/connections/meta_user", { method: "DELETE" });
    expect(del.status).toBe(204);
    await until(() => hooks().some((h) => h.type === "connection.deleted"), "the connection.deleted webhook");
    expect(hooks().find((h) => h.type === "connection.deleted")?.data.metadata).toEqual({ plan: "team" });
    const cleared = await patch("meta_user", { metadata: null });
    expect(cleared.status).toBe(200);
    expect((await getJson("/v1/connections/meta_user")).metadata).toBeNull();
  });

  it("a reconnect without metadata keeps it; one with metadata replaces it", async () => {
    await connect(t, { identifier: "keep_user", metadata: { v: 1 } });
    await connect(t, { identifier: "keep_user" });
    expect((await getJson("/v1/connections/keep_user")).metadata).toEqual({ v: 1 });
    await connect(t, { identifier: "keep_user", metadata: null });
    expect((await getJson("/v1/connections/keep_user")).metadata).toEqual({ v: 1 });
    await connect(t, { identifier: "keep_user", metadata: { v: 2 } });
    expect((await getJson("/v1/connections/keep_user")).metadata).toEqual({ v: 2 });
    await until(
      () =>
        hooks().some(
          (h) => h.type === "connection.reconnected" && (h.data.metadata as { v?: number })?.v === 2,
        ),
      "the connection.reconnected webhook with the new metadata",
    );
  });

  it("a connection made without metadata shows null", async () => {
    await connect(t, { identifier: "plain_user" });
    expect((await getJson("/v1/connections/plain_user")).metadata).toBeNull();
  });

  it.each([
    ["an array at the top level", ["a"], "must be a JSON object, not an array", "Send an object"],
    ["a string", "x", "must be a JSON object, not a string", "Send an object"],
    [
      "too many keys",
      Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i])),
      "51 keys",
      "fewer keys",
    ],
    ["too big", { blob: "x".repeat(5000) }, "at most 4096 (4 KiB)", "your own database"],
    ["a key too long", { ["k".repeat(101)]: 1 }, "101 characters long", "1–100 characters"],
  ])(
    "refuses %s on PATCH and on a connect session, naming the fix",
    async (_what, metadata, message, hint) => {
      const res = await patch("plain_user", { metadata });
      expect(res.status).toBe(400);
      const body = (await res.json()) as ErrorBody;
      expect(body.error.code).toBe("invalid_input");
      expect(body.error.message).toContain("metadata:");
      expect(body.error.message).toContain(message);
      expect(body.error.hint).toContain(hint);
      const session = await t.api("/v1/connect-sessions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ identifier: "plain_user", metadata }),
      });
      expect(session.status).toBe(400);
      expect(((await session.json()) as ErrorBody).error.message).toContain(message);
      expect((await getJson("/v1/connections/plain_user")).metadata).toBeNull();
    },
  );

  it("PATCH: 404 for an unknown identifier, 400 without metadata, 415 without a JSON body", async () => {
    const unknown = await patch("nobody_here", { metadata: { a: 1 } });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as ErrorBody).error.code).toBe("not_found");
    const missing = await patch("plain_user", {});
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as ErrorBody).error.message).toContain("metadata");
    const extra = await patch("plain_user", { metadata: {}, other: 1 });
    expect(extra.status).toBe(400);
    const noJson = await t.api("/v1/connections/plain_user", { method: "PATCH", body: "metadata=1" });
    expect([400, 415]).toContain(noJson.status);
  });

  it("documents the PATCH route, its body and metadata on the connection in /openapi.json", async () => {
    const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    const op = doc.paths["/v1/connections/{identifier}"]?.patch;
    expect(Object.keys(op?.responses ?? {})).toEqual(
      expect.arrayContaining(["200", "400", "404", "415", "429"]),
    );
    expect(doc.components.schemas.Connection?.properties).toHaveProperty("metadata");
    expect(doc.components.schemas.ConnectSessionRequest?.properties).toHaveProperty("metadata");
  });

  it("never writes metadata to the logs", () => {
    expect(t.logs.text()).toContain("meta_user");
    expect(t.logs.text()).not.toContain(MARKER);
  });
});

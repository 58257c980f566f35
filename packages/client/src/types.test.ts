import { describe, expect, it } from "vitest";
import {
  readAccessToken,
  readAirtableWebhook,
  readAirtableWebhookList,
  readConnection,
  readConnectionPage,
  readErrorEnvelope,
  readEventList,
  WireShapeError,
} from "./types.js";

const wireConnection = {
  identifier: "user_1",
  status: "active",
  scopes: ["data.records:read"],
  airtable_user_id: "usr123",
  email: null,
  access_token_expires_at: "2025-01-01T01:00:00.000Z",
  refresh_token_expires_at: "2025-03-02T00:00:00.000Z",
  created_at: "2025-01-01T00:00:00.000Z",
  some_future_field: true,
};

const wireWebhook = {
  id: "awh_3f2a9c0d1e4b5a6c7d8e",
  identifier: "user_1",
  base_id: "appABCDEFGHIJKLMN",
  airtable_webhook_id: "achABCDEFGHIJKLMN",
  status: "active",
  specification: { options: { filters: { dataTypes: ["tableData"] } } },
  notification_url: "http://localhost:4000/airtable/notifications/awh_3f2a9c0d1e4b5a6c7d8e",
  expiration_time: "2025-01-08T00:00:00.000Z",
  cursor: 3,
  last_ping_at: "2025-01-01T00:05:00.000Z",
  last_fetch_at: null,
  last_refreshed_at: null,
  created_at: "2025-01-01T00:00:00.000Z",
  last_error: null,
  delivery: { pending: 2, last_error: "HTTP 503" },
};

function shapeError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof WireShapeError) return err.message;
    throw err;
  }
  throw new Error("expected a WireShapeError");
}

describe("wire readers", () => {
  it("read a connection into camelCase with Dates; absent and null optional fields read as null", () => {
    expect(readConnection(wireConnection)).toEqual({
      integration: "default",
      identifier: "user_1",
      status: "active",
      statusReason: null,
      scopes: ["data.records:read"],
      airtableUserId: "usr123",
      email: null,
      accessTokenExpiresAt: new Date("2025-01-01T01:00:00.000Z"),
      refreshTokenExpiresAt: new Date("2025-03-02T00:00:00.000Z"),
      lastRefreshedAt: null,
      createdAt: new Date("2025-01-01T00:00:00.000Z"),
      metadata: null,
    });
    expect(readConnection({ ...wireConnection, integration: "readonly" }).integration).toBe("readonly");
    expect(readConnection({ ...wireConnection, metadata: { plan: "pro" } }).metadata).toEqual({
      plan: "pro",
    });
    expect(shapeError(() => readConnection({ ...wireConnection, metadata: ["x"] }))).toBe(
      "metadata: expected an object",
    );
    expect(readConnection({ ...wireConnection, status: "revoked", status_reason: "deleted" })).toMatchObject({
      status: "revoked",
      statusReason: "deleted",
    });
  });

  it("name the first place a body differs, with its path", () => {
    expect(shapeError(() => readConnection({ ...wireConnection, identifier: 42 }))).toBe(
      "identifier: expected a string",
    );
    expect(shapeError(() => readConnection({ ...wireConnection, status: "paused" }))).toBe(
      "status: expected one of active, reauth_required, revoked",
    );
    expect(shapeError(() => readConnection({ ...wireConnection, created_at: "yesterday" }))).toBe(
      "created_at: expected an ISO 8601 date",
    );
    expect(
      shapeError(() =>
        readConnectionPage({
          connections: [wireConnection, { ...wireConnection, scopes: [1] }],
          next_cursor: null,
        }),
      ),
    ).toBe("connections.1.scopes.0: expected a string");
    expect(shapeError(() => readConnectionPage({ connections: [] }))).toBe("next_cursor: expected a string");
    expect(shapeError(() => readAccessToken([]))).toBe("(body): expected an object");
  });

  it("read pages, tokens and events", () => {
    expect(readConnectionPage({ connections: [wireConnection], next_cursor: "c2" }).nextCursor).toBe("c2");
    expect(readAccessToken({ access_token: "tok", expires_at: "2025-01-01T00:00:00Z" })).toEqual({
      accessToken: "tok",
      expiresAt: new Date("2025-01-01T00:00:00Z"),
    });
    expect(
      readEventList({
        events: [{ id: "e1", type: "connection.created", created_at: "2025-01-01T00:00:00Z" }],
      }),
    ).toEqual([
      { id: "e1", type: "connection.created", data: {}, createdAt: new Date("2025-01-01T00:00:00Z") },
    ]);
  });

  it("tell Airlock's error envelope from Airtable's own errors", () => {
    expect(
      readErrorEnvelope({ error: { code: "not_found", message: "No such connection.", hint: "h" } }),
    ).toEqual({ code: "not_found", message: "No such connection.", hint: "h" });
    expect(
      readErrorEnvelope({ error: { type: "INVALID_REQUEST_UNKNOWN", message: "Invalid request" } }),
    ).toBeNull();
    expect(readErrorEnvelope({ error: "NOT_FOUND" })).toBeNull();
    expect(readErrorEnvelope("<html>")).toBeNull();
    expect(readErrorEnvelope(null)).toBeNull();
  });

  it("read an Airtable webhook into camelCase with Dates, and a list of them", () => {
    expect(readAirtableWebhook(wireWebhook)).toEqual({
      id: "awh_3f2a9c0d1e4b5a6c7d8e",
      identifier: "user_1",
      baseId: "appABCDEFGHIJKLMN",
      airtableWebhookId: "achABCDEFGHIJKLMN",
      status: "active",
      specification: { options: { filters: { dataTypes: ["tableData"] } } },
      notificationUrl: "http://localhost:4000/airtable/notifications/awh_3f2a9c0d1e4b5a6c7d8e",
      expirationTime: new Date("2025-01-08T00:00:00.000Z"),
      cursor: 3,
      lastPingAt: new Date("2025-01-01T00:05:00.000Z"),
      lastFetchAt: null,
      lastRefreshedAt: null,
      createdAt: new Date("2025-01-01T00:00:00.000Z"),
      lastError: null,
      delivery: { pending: 2, lastError: "HTTP 503" },
    });
    const creating = { ...wireWebhook, status: "creating", airtable_webhook_id: null, expiration_time: null };
    expect(readAirtableWebhookList({ airtable_webhooks: [creating] })).toMatchObject([
      { status: "creating", airtableWebhookId: null, expirationTime: null },
    ]);
    expect(readAirtableWebhookList({ airtable_webhooks: [] })).toEqual([]);
  });

  it("name where an Airtable webhook differs", () => {
    expect(shapeError(() => readAirtableWebhook({ ...wireWebhook, status: "gone" }))).toBe(
      "status: expected one of creating, active, paused, expired, deleted_upstream",
    );
    expect(shapeError(() => readAirtableWebhook({ ...wireWebhook, cursor: "3" }))).toBe(
      "cursor: expected a whole number",
    );
    expect(
      shapeError(() =>
        readAirtableWebhookList({ airtable_webhooks: [{ ...wireWebhook, delivery: { pending: -1 } }] }),
      ),
    ).toBe("airtable_webhooks.0.delivery.pending: expected a whole number");
    expect(shapeError(() => readAirtableWebhook({ ...wireWebhook, delivery: null }))).toBe(
      "delivery: expected an object",
    );
    expect(shapeError(() => readAirtableWebhookList({ webhooks: [] }))).toBe(
      "airtable_webhooks: expected an array",
    );
  });
});

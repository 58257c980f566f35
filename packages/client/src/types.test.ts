import { describe, expect, it } from "vitest";
import {
  readAccessToken,
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
    });
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
});

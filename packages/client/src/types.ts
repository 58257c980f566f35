/**
 * What the Airlock service's HTTP API returns, as the SDK hands it to you: camelCase names and
 * `Date` objects (the wire uses snake_case and ISO 8601 strings). The readers here check every
 * response before it reaches your code, so a proxy or an old server that answers something else
 * fails loudly instead of handing you `undefined`. (Hand-written: the SDK has no dependencies.)
 */

/**
 * `active` works; `reauth_required` needs the user to reconnect; `revoked` was disconnected
 * (`deleteConnection`) and its tokens erased. A new connect link for the identifier makes either
 * one `active` again.
 */
export type ConnectionStatus = "active" | "reauth_required" | "revoked";

/** One end user's Airtable connection, without its tokens. */
export interface Connection {
  /** The integration it was made with: `default` (the service's AIRTABLE_* one) or an id from `listIntegrations()`. */
  integration: string;
  identifier: string;
  status: ConnectionStatus;
  /** Why the status is not `active` (`invalid_grant`, `refresh_expired`, `disconnected`…), null when active. */
  statusReason: string | null;
  scopes: string[];
  airtableUserId: string | null;
  email: string | null;
  /** For a `revoked` connection: when it was disconnected (its tokens are gone). */
  accessTokenExpiresAt: Date;
  /** For a `revoked` connection: when it was disconnected (its tokens are gone). */
  refreshTokenExpiresAt: Date;
  lastRefreshedAt: Date | null;
  createdAt: Date;
  /** Your app's JSON object for the connection (null: none). Airlock never looks inside it. */
  metadata: ConnectionMetadata | null;
}

/**
 * Your app's JSON object on a connection: at most 4 KiB as JSON and 50 top-level keys of 1–100
 * characters. Returned on the connection and in its events and webhooks (`data.metadata`); put
 * no secrets in it.
 */
export type ConnectionMetadata = Record<string, unknown>;

/** A one-time "Connect your Airtable" link for one end user. */
export interface ConnectSession {
  /** The secret part of the link; shown once, single use. */
  token: string;
  /** Send the end user's browser here. */
  url: string;
  expiresAt: Date;
}

/** An Airtable access token valid for at least five more minutes. */
export interface AccessToken {
  accessToken: string;
  expiresAt: Date;
}

/** One page of connections; pass `nextCursor` back as `cursor` for the next one. */
export interface ConnectionPage {
  connections: Connection[];
  nextCursor: string | null;
}

/** One entry of a connection's history (connected, refreshed, reauth_required, deleted, connect_failed…). */
export interface ConnectionEvent {
  id: string;
  type: string;
  data: Record<string, unknown>;
  createdAt: Date;
}

/**
 * `active` is refreshed and fetched; `paused` while its connection is not active (it resumes after
 * a reconnect); `expired` or `deleted_upstream` once Airtable no longer has it (one
 * `airtable.webhook_lost` event; create a new one); `creating` only while Airtable is asked.
 */
export type AirtableWebhookStatus = "creating" | "active" | "paused" | "expired" | "deleted_upstream";

/**
 * Airtable's webhook specification, passed through as is
 * (https://airtable.com/developers/web/api/model/webhooks-specification); `dataTypes` is required.
 */
export interface AirtableWebhookSpecification {
  options: {
    filters: {
      dataTypes: Array<"tableData" | "tableFields" | "tableMetadata">;
      recordChangeScope?: string;
      [key: string]: unknown;
    };
    includes?: Record<string, unknown>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/**
 * An Airtable webhook Airlock keeps for a connection: created with the connection's token,
 * refreshed well inside Airtable's 7 days, its payloads delivered as `airtable.payloads` events.
 */
export interface AirtableWebhook {
  /** Airlock's id (`awh_…`): pass it to `deleteAirtableWebhook`; events carry it as `webhook_id`. */
  id: string;
  identifier: string;
  baseId: string;
  /** Airtable's id (`ach…`); null only while `creating`. */
  airtableWebhookId: string | null;
  status: AirtableWebhookStatus;
  specification: Record<string, unknown>;
  /** Where Airtable pings Airlock (`AIRLOCK_PUBLIC_URL/airtable/notifications/<id>`). */
  notificationUrl: string;
  expirationTime: Date | null;
  /** The number of the next payload Airlock fetches. */
  cursor: number;
  lastPingAt: Date | null;
  lastFetchAt: Date | null;
  lastRefreshedAt: Date | null;
  createdAt: Date;
  /** Why the last fetch or refresh failed (it is retried), null when it worked. */
  lastError: string | null;
  /** This webhook's `airtable.payloads` events not yet delivered to your receiver, and why the last attempt failed. */
  delivery: { pending: number; lastError: string | null };
}

/** Where a response body differs from what the SDK expects: `path` is dotted (`connections.0.scopes`). */
export class WireShapeError extends Error {
  override readonly name = "WireShapeError";

  constructor(
    readonly path: string,
    readonly expected: string,
  ) {
    super(`${path || "(body)"}: expected ${expected}`);
  }
}

/** Reads one wire value into its SDK shape, or throws {@link WireShapeError}. */
export type WireReader<T> = (value: unknown, path?: string) => T;

const CONNECTION_STATUSES: readonly ConnectionStatus[] = ["active", "reauth_required", "revoked"];
const AIRTABLE_WEBHOOK_STATUSES: readonly AirtableWebhookStatus[] = [
  "creating",
  "active",
  "paused",
  "expired",
  "deleted_upstream",
];

function at(path: string, key: string | number): string {
  return path === "" ? String(key) : `${path}.${key}`;
}

function record(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new WireShapeError(path, "an object");
  }
  return value as Record<string, unknown>;
}

function text(value: unknown, path: string): string {
  if (typeof value !== "string") throw new WireShapeError(path, "a string");
  return value;
}

/** `null` or absent reads as `null`. */
function optionalText(value: unknown, path: string): string | null {
  return value === null || value === undefined ? null : text(value, path);
}

function count(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new WireShapeError(path, "a whole number");
  }
  return value;
}

function oneOf<T extends string>(value: unknown, path: string, allowed: readonly T[]): T {
  const found = text(value, path);
  if (!(allowed as readonly string[]).includes(found)) {
    throw new WireShapeError(path, `one of ${allowed.join(", ")}`);
  }
  return found as T;
}

function date(value: unknown, path: string): Date {
  const parsed = new Date(text(value, path));
  if (Number.isNaN(parsed.getTime())) throw new WireShapeError(path, "an ISO 8601 date");
  return parsed;
}

function optionalDate(value: unknown, path: string): Date | null {
  return value === null || value === undefined ? null : date(value, path);
}

function list<T>(value: unknown, path: string, item: (entry: unknown, path: string) => T): T[] {
  if (!Array.isArray(value)) throw new WireShapeError(path, "an array");
  return value.map((entry, index) => item(entry, at(path, index)));
}

/** `GET /v1/connections/:identifier`. */
export const readConnection: WireReader<Connection> = (value, path = "") => {
  const c = record(value, path);
  return {
    // A service from before several integrations sends none: its connections are all `default`'s.
    integration: c.integration === undefined ? "default" : text(c.integration, at(path, "integration")),
    identifier: text(c.identifier, at(path, "identifier")),
    status: oneOf(c.status, at(path, "status"), CONNECTION_STATUSES),
    statusReason: optionalText(c.status_reason, at(path, "status_reason")),
    scopes: list(c.scopes, at(path, "scopes"), text),
    airtableUserId: optionalText(c.airtable_user_id, at(path, "airtable_user_id")),
    email: optionalText(c.email, at(path, "email")),
    accessTokenExpiresAt: date(c.access_token_expires_at, at(path, "access_token_expires_at")),
    refreshTokenExpiresAt: date(c.refresh_token_expires_at, at(path, "refresh_token_expires_at")),
    lastRefreshedAt: optionalDate(c.last_refreshed_at, at(path, "last_refreshed_at")),
    createdAt: date(c.created_at, at(path, "created_at")),
    metadata:
      c.metadata === null || c.metadata === undefined ? null : record(c.metadata, at(path, "metadata")),
  };
};

/** `GET /v1/connections`. */
export const readConnectionPage: WireReader<ConnectionPage> = (value, path = "") => {
  const page = record(value, path);
  if (page.next_cursor !== null) text(page.next_cursor, at(path, "next_cursor"));
  return {
    connections: list(page.connections, at(path, "connections"), readConnection),
    nextCursor: page.next_cursor as string | null,
  };
};

/** `POST /v1/connect-sessions`. */
export const readConnectSession: WireReader<ConnectSession> = (value, path = "") => {
  const s = record(value, path);
  return {
    token: text(s.token, at(path, "token")),
    url: text(s.url, at(path, "url")),
    expiresAt: date(s.expires_at, at(path, "expires_at")),
  };
};

/** `POST /v1/connections/:identifier/access-token`. */
export const readAccessToken: WireReader<AccessToken> = (value, path = "") => {
  const t = record(value, path);
  return {
    accessToken: text(t.access_token, at(path, "access_token")),
    expiresAt: date(t.expires_at, at(path, "expires_at")),
  };
};

function readEvent(value: unknown, path: string): ConnectionEvent {
  const e = record(value, path);
  return {
    id: text(e.id, at(path, "id")),
    type: text(e.type, at(path, "type")),
    data: e.data === null || e.data === undefined ? {} : record(e.data, at(path, "data")),
    createdAt: date(e.created_at, at(path, "created_at")),
  };
}

/** `GET /v1/connections/:identifier/events`. */
export const readEventList: WireReader<ConnectionEvent[]> = (value, path = "") =>
  list(record(value, path).events, at(path, "events"), readEvent);

/** `POST /v1/connections/:identifier/airtable-webhooks`. */
export const readAirtableWebhook: WireReader<AirtableWebhook> = (value, path = "") => {
  const w = record(value, path);
  const deliveryPath = at(path, "delivery");
  const delivery = record(w.delivery, deliveryPath);
  return {
    id: text(w.id, at(path, "id")),
    identifier: text(w.identifier, at(path, "identifier")),
    baseId: text(w.base_id, at(path, "base_id")),
    airtableWebhookId: optionalText(w.airtable_webhook_id, at(path, "airtable_webhook_id")),
    status: oneOf(w.status, at(path, "status"), AIRTABLE_WEBHOOK_STATUSES),
    specification: record(w.specification, at(path, "specification")),
    notificationUrl: text(w.notification_url, at(path, "notification_url")),
    expirationTime: optionalDate(w.expiration_time, at(path, "expiration_time")),
    cursor: count(w.cursor, at(path, "cursor")),
    lastPingAt: optionalDate(w.last_ping_at, at(path, "last_ping_at")),
    lastFetchAt: optionalDate(w.last_fetch_at, at(path, "last_fetch_at")),
    lastRefreshedAt: optionalDate(w.last_refreshed_at, at(path, "last_refreshed_at")),
    createdAt: date(w.created_at, at(path, "created_at")),
    lastError: optionalText(w.last_error, at(path, "last_error")),
    delivery: {
      pending: count(delivery.pending, at(deliveryPath, "pending")),
      lastError: optionalText(delivery.last_error, at(deliveryPath, "last_error")),
    },
  };
};

/** `GET /v1/connections/:identifier/airtable-webhooks`. */
export const readAirtableWebhookList: WireReader<AirtableWebhook[]> = (value, path = "") =>
  list(record(value, path).airtable_webhooks, at(path, "airtable_webhooks"), readAirtableWebhook);

/** What a named API key may call: `admin` everything under /v1, `connect` only connect sessions, `proxy` only the proxy and access tokens. */
export type ApiKeyScope = "admin" | "connect" | "proxy";

const API_KEY_SCOPES: readonly ApiKeyScope[] = ["admin", "connect", "proxy"];

/** A named API key as listed (never the key itself). */
export interface ApiKey {
  /** `key_…` */
  id: string;
  name: string;
  scope: ApiKeyScope;
  createdAt: Date;
  /** Updated at most once a minute. */
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** A key just created: `key` is shown only this once. */
export interface CreatedApiKey {
  id: string;
  name: string;
  scope: ApiKeyScope;
  /** `ak_…`: send it as `Authorization: Bearer <key>`. */
  key: string;
  createdAt: Date;
}

function readApiKey(value: unknown, path: string): ApiKey {
  const k = record(value, path);
  return {
    id: text(k.id, at(path, "id")),
    name: text(k.name, at(path, "name")),
    scope: oneOf(k.scope, at(path, "scope"), API_KEY_SCOPES),
    createdAt: date(k.created_at, at(path, "created_at")),
    lastUsedAt: optionalDate(k.last_used_at, at(path, "last_used_at")),
    revokedAt: optionalDate(k.revoked_at, at(path, "revoked_at")),
  };
}

const INTEGRATION_SOURCES = ["environment", "file", "api"] as const;

/** An Airtable OAuth integration the service acts for (`GET /v1/integrations`). */
export interface Integration {
  /** `default` for the service's AIRTABLE_* integration. */
  id: string;
  name: string;
  clientId: string;
  /** Its scopes: connect sessions ask for these or a subset. */
  scopes: string[];
  /** True for `default`, the one the routes without an integration act on. */
  default: boolean;
  /** Where it is configured: AIRTABLE_*, AIRLOCK_INTEGRATIONS_FILE, or `createIntegration`. */
  source: "environment" | "file" | "api";
}

/** One integration (`POST /v1/integrations`, and each of `GET /v1/integrations`). */
export const readIntegration: WireReader<Integration> = (value, path = "") => {
  const i = record(value, path);
  if (typeof i.default !== "boolean") throw new WireShapeError(at(path, "default"), "a boolean");
  return {
    id: text(i.id, at(path, "id")),
    name: text(i.name, at(path, "name")),
    clientId: text(i.client_id, at(path, "client_id")),
    scopes: list(i.scopes, at(path, "scopes"), text),
    default: i.default,
    source: oneOf(i.source ?? "environment", at(path, "source"), INTEGRATION_SOURCES),
  };
};

/** `GET /v1/integrations`. */
export const readIntegrationList: WireReader<Integration[]> = (value, path = "") =>
  list(record(value, path).integrations, at(path, "integrations"), readIntegration);

/** `GET /v1/api-keys`. */
export const readApiKeyList: WireReader<ApiKey[]> = (value, path = "") =>
  list(record(value, path).api_keys, at(path, "api_keys"), readApiKey);

/** `POST /v1/api-keys`. */
export const readCreatedApiKey: WireReader<CreatedApiKey> = (value, path = "") => {
  const k = record(value, path);
  return {
    id: text(k.id, at(path, "id")),
    name: text(k.name, at(path, "name")),
    scope: oneOf(k.scope, at(path, "scope"), API_KEY_SCOPES),
    key: text(k.key, at(path, "key")),
    createdAt: date(k.created_at, at(path, "created_at")),
  };
};

/** Airlock's error envelope, `{error: {code, message, hint?, details?}}`. */
export interface ErrorEnvelope {
  code: string;
  message: string;
  hint?: string;
  details?: Record<string, unknown>;
}

/**
 * Airlock's error envelope, or `null` for anything else. Airtable's own errors (passed through
 * by the proxy) carry `error.type` or a bare string, not `error.code`, so they read as `null`.
 */
export function readErrorEnvelope(value: unknown): ErrorEnvelope | null {
  try {
    const error = record(record(value, "").error, "error");
    const envelope: ErrorEnvelope = {
      code: text(error.code, "error.code"),
      message: text(error.message, "error.message"),
    };
    if (error.hint !== undefined) envelope.hint = text(error.hint, "error.hint");
    if (error.details !== undefined) envelope.details = record(error.details, "error.details");
    return envelope;
  } catch (err) {
    if (err instanceof WireShapeError) return null;
    throw err;
  }
}

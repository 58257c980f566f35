/**
 * Rows to records: the one place that turns database columns (epoch milliseconds, JSON text,
 * ciphertext, status text) into the Store's types, checking what the types promise.
 */
import { AirlockError } from "../../shared/errors.js";
import { encryptionContext, type Keyring } from "../crypto.js";
import type { AirtableWebhooksTable, ConnectionsTable, EventsTable } from "../schema.js";
import {
  AIRTABLE_WEBHOOK_STATUSES,
  type AirtableWebhookRecord,
  type AirtableWebhookStatus,
  CONNECTION_STATUSES,
  type ConnectionMetadata,
  type ConnectionRecord,
  type ConnectionStatus,
  type ConnectionSummary,
  type EventRecord,
} from "../types.js";
import { connectionKey } from "./context.js";

export type ConnectionRow = ConnectionsTable;
export type EventRow = Omit<EventsTable, "attempts"> & { attempts: number };

/** Whether a `connections.status` value is one this Airlock knows. */
export function isConnectionStatus(value: string): value is ConnectionStatus {
  return (CONNECTION_STATUSES as readonly string[]).includes(value);
}

/**
 * A `connections.status` value as a {@link ConnectionStatus}; throws `internal` for any other
 * value (a row written by hand, or by a newer Airlock with a status this one does not know).
 */
export function parseStatus(value: string, identifier: string): ConnectionStatus {
  if (isConnectionStatus(value)) return value;
  throw new AirlockError(
    "internal",
    `The connection "${identifier}" has the unknown status "${value}" in the database.`,
    {
      hint: `A connection's status is one of ${CONNECTION_STATUSES.join(", ")}; check that every instance runs the same Airlock version, or correct the row.`,
    },
  );
}

/** A row as a summary: no token columns, no refresh bookkeeping. */
export function toSummary(row: ConnectionRow): ConnectionSummary {
  return {
    integration: row.integration_id,
    identifier: row.identifier,
    status: parseStatus(row.status, row.identifier),
    statusReason: row.status_reason,
    scopes: parseList(row.scopes),
    airtableUserId: row.airtable_user_id,
    email: row.email,
    accessTokenExpiresAt: new Date(Number(row.access_token_expires_at)),
    refreshTokenExpiresAt: new Date(Number(row.refresh_token_expires_at)),
    lastRefreshedAt: toDate(row.last_refreshed_at),
    createdAt: new Date(Number(row.created_at)),
    updatedAt: new Date(Number(row.updated_at)),
    version: Number(row.version),
    metadata: parseMetadata(row.metadata),
  };
}

/** A `metadata` column (JSON object text) as an object; null, or anything but an object, is none. */
export function parseMetadata(value: string | null): ConnectionMetadata | null {
  if (value === null) return null;
  const parsed: unknown = JSON.parse(value);
  return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
    ? (parsed as ConnectionMetadata)
    : null;
}

/** Metadata as its column: JSON text, null for none. */
export function metadataColumn(metadata: ConnectionMetadata | null | undefined): string | null {
  return metadata ? JSON.stringify(metadata) : null;
}

/**
 * The summary plus the decrypted tokens and the refresh bookkeeping.
 */
export function toRecord(keyring: Keyring, row: ConnectionRow): ConnectionRecord {
  return {
    ...toSummary(row),
    accessToken: keyring.decrypt(
      row.access_token_enc,
      tokenContext(row.integration_id, "access_token", row.identifier),
    ),
    refreshToken: keyring.decrypt(
      row.refresh_token_enc,
      tokenContext(row.integration_id, "refresh_token", row.identifier),
    ),
    leaseOwner: row.lease_owner,
    leaseUntil: toDate(row.lease_until),
    refreshFailures: Number(row.refresh_failures),
    nextRefreshAttemptAt: toDate(row.next_refresh_attempt_at),
  };
}

/** An `events` row as an EventRecord (payload parsed, times as dates). */
export function toEvent(row: EventRow): EventRecord {
  return {
    id: row.id,
    integration: row.integration_id,
    identifier: row.identifier,
    type: row.type,
    data: JSON.parse(row.data) as Record<string, unknown>,
    createdAt: new Date(Number(row.created_at)),
  };
}

/** A millisecond column as a Date; null stays null (e.g. a link not used yet). */
export function toDate(value: number | null): Date | null {
  return value === null ? null : new Date(Number(value));
}

/**
 * A JSON array of strings (scopes); anything else in it is dropped.
 */
export function parseList(value: string): string[] {
  const parsed: unknown = JSON.parse(value);
  return Array.isArray(parsed) ? parsed.filter((s): s is string => typeof s === "string") : [];
}

/**
 * The encryption context binding a token column's ciphertext to its row (its integration and
 * identifier: a ciphertext copied to the same identifier of another integration does not decrypt).
 */
export function tokenContext(
  integration: string,
  column: "access_token" | "refresh_token",
  identifier: string,
): string {
  return encryptionContext("connections", column, connectionKey(integration, identifier));
}

/**
 * The encryption context binding a code verifier's ciphertext to its pending authorization.
 */
export function verifierContext(stateHash: string): string {
  return encryptionContext("pending_authorizations", "code_verifier", stateHash);
}

/**
 * The encryption context binding an API-created integration's client secret to its row.
 */
export function clientSecretContext(integrationId: string): string {
  return encryptionContext("integrations", "client_secret", integrationId);
}

/**
 * The encryption context binding an Airtable webhook's MAC secret to its row.
 */
export function macSecretContext(webhookId: string): string {
  return encryptionContext("airtable_webhooks", "mac_secret", webhookId);
}

export type AirtableWebhookRow = AirtableWebhooksTable;

/** An `airtable_webhooks` row as a record (no secret; an unknown status is refused). */
export function toAirtableWebhook(row: AirtableWebhookRow): AirtableWebhookRecord {
  if (!(AIRTABLE_WEBHOOK_STATUSES as readonly string[]).includes(row.status)) {
    throw new AirlockError(
      "internal",
      `The Airtable webhook "${row.id}" has the unknown status "${row.status}" in the database.`,
      { hint: "Check that every instance runs the same Airlock version, or correct the row." },
    );
  }
  return {
    id: row.id,
    integration: row.integration_id,
    identifier: row.identifier,
    baseId: row.base_id,
    airtableWebhookId: row.airtable_webhook_id,
    status: row.status as AirtableWebhookStatus,
    specification: JSON.parse(row.specification) as Record<string, unknown>,
    notificationUrl: row.notification_url,
    expirationTime: toDate(row.expiration_time),
    cursor: Number(row.cursor),
    pings: Number(row.pings),
    fetchedPings: Number(row.fetched_pings),
    lastPingAt: toDate(row.last_ping_at),
    lastFetchAt: toDate(row.last_fetch_at),
    lastRefreshedAt: toDate(row.last_refreshed_at),
    leaseOwner: row.lease_owner,
    leaseUntil: toDate(row.lease_until),
    nextAttemptAt: toDate(row.next_attempt_at),
    failures: Number(row.failures),
    lastError: row.last_error,
    createdAt: new Date(Number(row.created_at)),
    updatedAt: new Date(Number(row.updated_at)),
  };
}

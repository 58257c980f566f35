/**
 * Table shapes as Kysely sees them. Times are epoch milliseconds (BIGINT on PostgreSQL, INTEGER on
 * SQLite) so both dialects compare and index them the same way; secrets live only in `*_enc`
 * columns (see crypto.ts); lists and objects are JSON text.
 */
import type { Generated } from "kysely";

export interface ConnectionsTable {
  /** The Airtable OAuth integration (`default`: the one `AIRTABLE_*` configures). */
  integration_id: string;
  identifier: string;
  status: string;
  status_reason: string | null;
  /** JSON array of scope strings. */
  scopes: string;
  airtable_user_id: string | null;
  email: string | null;
  access_token_enc: string;
  refresh_token_enc: string;
  access_token_expires_at: number;
  refresh_token_expires_at: number;
  /** When the current tokens were obtained (connect or refresh); the keep-alive scan's key. */
  last_refreshed_at: number | null;
  created_at: number;
  updated_at: number;
  version: number;
  lease_owner: string | null;
  lease_until: number | null;
  /**
   * 1 when a lease expired without a release or save and no refresh has succeeded since: Airtable
   * may have rotated the refresh token in a response nobody saved.
   */
  lease_takeover: number;
  refresh_failures: number;
  next_refresh_attempt_at: number | null;
  /** The app's JSON object for this connection (null: none). */
  metadata: string | null;
}

export interface ConnectSessionsTable {
  /** The Airtable OAuth integration (`default`: the one `AIRTABLE_*` configures). */
  integration_id: string;
  token_hash: string;
  identifier: string;
  scopes: string;
  return_url: string | null;
  expires_at: number;
  created_at: number;
  used_at: number | null;
  /** JSON object to put on the connection (null: none). */
  metadata: string | null;
  /** The Airtable account's email (lower case) the consent must come from (null: any). */
  expected_email: string | null;
}

export interface PendingAuthorizationsTable {
  /** The Airtable OAuth integration (`default`: the one `AIRTABLE_*` configures). */
  integration_id: string;
  state_hash: string;
  identifier: string;
  scopes: string;
  return_url: string | null;
  code_verifier_enc: string;
  browser_binding_hash: string;
  expires_at: number;
  used_at: number | null;
  created_at: number;
  /** JSON object to put on the connection (null: none). */
  metadata: string | null;
  /** The Airtable account's email (lower case) the consent must come from (null: any). */
  expected_email: string | null;
}

export type WebhookState = "pending" | "delivered";

export interface EventsTable {
  /** The Airtable OAuth integration (`default`: the one `AIRTABLE_*` configures). */
  integration_id: string;
  id: string;
  identifier: string;
  type: string;
  /** JSON object. */
  data: string;
  created_at: number;
  /** null: not a webhook event; pending: in the outbox; delivered: done. */
  webhook_state: WebhookState | null;
  attempts: Generated<number>;
  next_attempt_at: number | null;
  lease_owner: string | null;
  lease_until: number | null;
  last_error: string | null;
  delivered_at: number | null;
  /** Events with the same key are delivered in `ordering_seq` order (a webhook's payload pages). */
  ordering_key: string | null;
  ordering_seq: number | null;
}

export interface AirtableWebhooksTable {
  /** Airlock's id (`awh_…`), in the notification URL; Airtable's id is `airtable_webhook_id`. */
  id: string;
  /** The integration of the connection the webhook belongs to. */
  integration_id: string;
  identifier: string;
  base_id: string;
  /** Null while `creating` (the row exists before the upstream call, so a crash leaves a trace). */
  airtable_webhook_id: string | null;
  /** creating | active | expired | deleted_upstream */
  status: string;
  /** JSON: Airtable's specification, as created. */
  specification: string;
  notification_url: string;
  /** Airtable's macSecretBase64, encrypted and bound to this row; null while creating. */
  mac_secret_enc: string | null;
  expiration_time: number | null;
  /** The number of the next payload to fetch; only moves inside the transaction that queues the payloads. */
  cursor: number;
  /** Pings verified, and how many of them the last finished fetch covered (a fetch is due while fewer). */
  pings: number;
  fetched_pings: number;
  last_ping_at: number | null;
  last_fetch_at: number | null;
  last_refreshed_at: number | null;
  /** The fetch/refresh lease: one instance talks to Airtable about this webhook at a time. */
  lease_owner: string | null;
  lease_until: number | null;
  /** Backoff after a transient failure, binding every instance. */
  next_attempt_at: number | null;
  failures: number;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

export interface ApiKeysTable {
  /** `key_…`: shown in lists; the key itself is only shown once, at creation. */
  id: string;
  name: string;
  /** admin | connect | proxy */
  scope: string;
  /** SHA-256 of the key, hex. */
  key_hash: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

/** Integrations created through the API (issue 12); those of AIRTABLE_* and the file are not stored. */
export interface IntegrationsTable {
  id: string;
  name: string;
  client_id: string;
  /** The client secret, encrypted and bound to the row; null for a public client. */
  client_secret_enc: string | null;
  /** JSON array of scope strings. */
  scopes: string;
  created_at: number;
}

export interface Database {
  connections: ConnectionsTable;
  connect_sessions: ConnectSessionsTable;
  pending_authorizations: PendingAuthorizationsTable;
  events: EventsTable;
  airtable_webhooks: AirtableWebhooksTable;
  api_keys: ApiKeysTable;
  integrations: IntegrationsTable;
}

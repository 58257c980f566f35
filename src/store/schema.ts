/**
 * Table shapes as Kysely sees them. Times are epoch milliseconds (BIGINT on PostgreSQL, INTEGER on
 * SQLite) so both dialects compare and index them the same way; secrets live only in `*_enc`
 * columns (see crypto.ts); lists and objects are JSON text.
 */
import type { Generated } from "kysely";

export interface ConnectionsTable {
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
}

export interface ConnectSessionsTable {
  token_hash: string;
  identifier: string;
  scopes: string;
  return_url: string | null;
  expires_at: number;
  created_at: number;
  used_at: number | null;
}

export interface PendingAuthorizationsTable {
  state_hash: string;
  identifier: string;
  scopes: string;
  return_url: string | null;
  code_verifier_enc: string;
  browser_binding_hash: string;
  expires_at: number;
  used_at: number | null;
  created_at: number;
}

export type WebhookState = "pending" | "delivered";

export interface EventsTable {
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
}

export interface Database {
  connections: ConnectionsTable;
  connect_sessions: ConnectSessionsTable;
  pending_authorizations: PendingAuthorizationsTable;
  events: EventsTable;
}

/**
 * The Store interface: everything the service persists. Implementations (sqlite, postgres)
 * encrypt token and verifier columns themselves (see crypto.ts), so callers only ever see
 * plaintext in memory and the database only ever holds ciphertext.
 *
 * Concurrency contract: every method is a single atomic statement or transaction; none holds a
 * lock across a call to Airtable. Lease and fencing rules are in ARCHITECTURE.md ("The token algorithm", "Durability").
 */

/** Every status a connection can have; the one list the store, API schemas and pages use. */
export const CONNECTION_STATUSES = ["active", "reauth_required", "revoked"] as const;

export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];

/** How many connections have each status (every status present, 0 when none). */
export type ConnectionCounts = Record<ConnectionStatus, number>;

/**
 * The app's JSON object on a connection (issue 12): at most 4 KiB serialized and 50 top-level keys,
 * checked by the service. Airlock stores and returns it, never looks inside it.
 */
export type ConnectionMetadata = Record<string, unknown>;

/** What a connection looks like without its secrets (listing, dashboard, API responses). */
export interface ConnectionSummary {
  /** The Airtable OAuth integration the connection was made with (`default`: the `AIRTABLE_*` one). */
  integration: string;
  identifier: string;
  status: ConnectionStatus;
  /** Why the status is not `active`: `invalid_grant`, `refresh_interrupted`, `refresh_expired`, `disconnected`... */
  statusReason: string | null;
  scopes: string[];
  airtableUserId: string | null;
  email: string | null;
  accessTokenExpiresAt: Date;
  refreshTokenExpiresAt: Date;
  lastRefreshedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  /** Increases by one on every token change; the fencing token for refreshes. */
  version: number;
  /** The app's metadata (null: none); not a token change, so setting it leaves `version` alone. */
  metadata: ConnectionMetadata | null;
}

export interface ConnectionRecord extends ConnectionSummary {
  accessToken: string;
  refreshToken: string;
  leaseOwner: string | null;
  leaseUntil: Date | null;
  /** Consecutive transient refresh failures since the last success. */
  refreshFailures: number;
  /** No refresh attempt before this time (transient backoff), null when none is pending. */
  nextRefreshAttemptAt: Date | null;
}

/** A state change's event, written in the same transaction as the change. */
export interface NewEvent {
  type: string;
  data?: Record<string, unknown>;
  /**
   * Outbox order: an event with a `key` is delivered only after every pending event with the same
   * key and a smaller `seq` (a webhook's payload pages go out in cursor order).
   */
  ordering?: { key: string; seq: number } | undefined;
}

export interface EventRecord {
  id: string;
  integration: string;
  identifier: string;
  type: string;
  data: Record<string, unknown>;
  createdAt: Date;
}

/** An event waiting for webhook delivery (the outbox). */
export interface OutboxItem extends EventRecord {
  attempts: number;
}

export interface ConnectSession {
  tokenHash: string;
  /** The integration whose view created it; the connect flow continues with that integration. */
  integration: string;
  identifier: string;
  scopes: string[];
  returnUrl: string | null;
  expiresAt: Date;
  createdAt: Date;
  /** What the connection gets when the flow completes (null: none; a reconnect keeps its own). */
  metadata: ConnectionMetadata | null;
  /** The Airtable account's email (lower case) the consent must come from (null: any account). */
  expectedEmail: string | null;
}

export interface PendingAuthorization {
  stateHash: string;
  /** The integration whose client exchanges the code. */
  integration: string;
  identifier: string;
  scopes: string[];
  returnUrl: string | null;
  codeVerifier: string;
  /** Hash of the random value in the browser's HttpOnly cookie that started this flow. */
  browserBindingHash: string;
  expiresAt: Date;
  usedAt: Date | null;
  createdAt: Date;
  /** The connect session's metadata, carried to the connection. */
  metadata: ConnectionMetadata | null;
  /** The connect session's expected email, checked in the callback (null: any account). */
  expectedEmail: string | null;
}

/** What {@link Store.createConnectSession} stores (the store stamps `createdAt`). */
export type NewConnectSession = Omit<
  ConnectSession,
  "integration" | "createdAt" | "metadata" | "expectedEmail"
> & {
  metadata?: ConnectionMetadata | null | undefined;
  expectedEmail?: string | null | undefined;
};

/** What {@link Store.createPendingAuthorization} stores (the store sets it unused and stamps `createdAt`). */
export type NewPendingAuthorization = Omit<
  PendingAuthorization,
  "integration" | "usedAt" | "createdAt" | "metadata" | "expectedEmail"
> & {
  metadata?: ConnectionMetadata | null | undefined;
  expectedEmail?: string | null | undefined;
};

/** What {@link Store.revokeConnection} did. */
export type RevokeOutcome = "revoked" | "already_revoked" | "not_found";

/**
 * An identifier's newest connect link and how far it got, for pages that must say what happened to
 * an identifier that has no connection (yet). Expired links and authorizations are purged, so an
 * old attempt may be gone.
 */
export interface ConnectAttempt {
  /** When the newest connect link was created, and until when it can be opened. */
  createdAt: Date;
  expiresAt: Date;
  /** When it was opened (the browser went on to Airtable); null while unopened. */
  openedAt: Date | null;
  /** The consent page's deadline, once opened (null when unopened, or its authorization was purged). */
  authorizationExpiresAt: Date | null;
  /** When the browser came back from Airtable (approved or not); null while on the consent page. */
  returnedAt: Date | null;
}

export interface NewConnectionTokens {
  identifier: string;
  scopes: string[];
  airtableUserId: string | null;
  email: string | null;
  accessToken: string;
  refreshToken: string;
  accessTokenExpiresAt: Date;
  refreshTokenExpiresAt: Date;
  /** Replaces the connection's metadata; null or absent keeps a reconnected row's own. */
  metadata?: ConnectionMetadata | null | undefined;
}

/** What {@link Store.upsertConnection} did: whether the row is new, and the row as written. */
export interface UpsertedConnection {
  created: boolean;
  connection: ConnectionRecord;
}

/** What {@link Store.listConnections} asks for: up to `limit` connections after the cursor, optionally of one status. */
export interface ListConnectionsOptions {
  limit: number;
  /** Opaque cursor: the last identifier of the previous page. */
  after?: string | undefined;
  status?: ConnectionStatus | undefined;
}

/** One page of {@link Store.listConnections}, in identifier order. */
export interface ConnectionPage {
  items: ConnectionSummary[];
  /** The `after` of the next page; null on the last one. */
  nextCursor: string | null;
}

/** A disconnect: why, and when (both expiries are set to `now`). */
export interface RevokeRequest {
  reason: string;
  now: Date;
}

/** What a refresh writes: the rotated tokens and what they grant. */
export type RefreshedTokens = Omit<
  NewConnectionTokens,
  "identifier" | "airtableUserId" | "email" | "metadata"
>;

/** A claim of the refresh lease on the row at `version`, for `leaseMs` from `now`. */
export interface LeaseRequest {
  owner: string;
  version: number;
  now: Date;
  leaseMs: number;
}

/** Rotated tokens to save, fenced on the `version` they were obtained with. */
export interface RefreshSave {
  /** The writer, for the record: a lease owner, or the rotation journal. */
  owner: string;
  version: number;
  tokens: RefreshedTokens;
  now: Date;
}

export type LeaseClaim =
  | {
      claimed: true;
      /**
       * An earlier refresh may have been interrupted after Airtable rotated the tokens: a lease
       * expired without a release or save (its holder died), or a release was `uncertain`, and no
       * refresh has succeeded since.
       */
      takeover: boolean;
    }
  | { claimed: false };

/** Gives a lease back after a refresh that did not save (a transient failure, or no attempt). */
export interface LeaseRelease {
  owner: string;
  failed: boolean;
  nextAttemptAt: Date | null;
  /**
   * The request may have reached the token endpoint without an answer (network error, timeout):
   * Airtable may have rotated. Later claims report `takeover: true` until a refresh succeeds.
   */
  uncertain?: boolean | undefined;
}

/** The terminal change to `reauth_required`, fenced on `version`. */
export interface ReauthRequest {
  version: number;
  reason: string;
  now: Date;
  /**
   * The lease the caller must still hold (`lease_owner`). An instance that took the lease over since
   * is sending a refresh token of its own: only it may tell whether the grant is dead.
   */
  owner?: string | undefined;
}

/** Active connections last refreshed before `refreshedBefore`, at most `limit` of them. */
export interface KeepAliveQuery {
  refreshedBefore: Date;
  limit: number;
}

/** An identifier's newest events, at most `limit`. */
export interface ListEventsOptions {
  limit: number;
}

/** A webhook deliverer's claim of up to `limit` due outbox events, leased for `leaseMs` from `now`. */
export interface OutboxClaim {
  owner: string;
  now: Date;
  limit: number;
  leaseMs: number;
}

/** A failed webhook delivery: when to try again, and why it failed (kept, truncated). */
export interface OutboxFailure {
  nextAttemptAt: Date;
  error: string;
}

/** Event retention: events created before `before`, deleted `batchSize` (default 1000) at a time. */
export interface PruneEventsOptions {
  before: Date;
  batchSize?: number;
}

/** Extends a live lease (the holder is still saving rotated tokens). */
export interface LeaseRenewal {
  owner: string;
  /** The version the lease was claimed on. */
  version: number;
  /** The new end of the lease. */
  until: Date;
}

/**
 * An Airtable webhook's state in Airlock: `creating` until Airtable answered the creation (a row
 * left `creating` by a crash is cleaned up), `active`, or lost upstream (`expired`,
 * `deleted_upstream`).
 */
export const AIRTABLE_WEBHOOK_STATUSES = ["creating", "active", "expired", "deleted_upstream"] as const;

export type AirtableWebhookStatus = (typeof AIRTABLE_WEBHOOK_STATUSES)[number];

/** An Airtable webhook Airlock keeps for a connection (no MAC secret). */
export interface AirtableWebhookRecord {
  /** Airlock's id (`awh_…`), the last segment of the notification URL. */
  id: string;
  /** The integration of its connection. */
  integration: string;
  identifier: string;
  baseId: string;
  airtableWebhookId: string | null;
  status: AirtableWebhookStatus;
  specification: Record<string, unknown>;
  notificationUrl: string;
  expirationTime: Date | null;
  /** The number of the next payload to fetch. */
  cursor: number;
  pings: number;
  fetchedPings: number;
  lastPingAt: Date | null;
  lastFetchAt: Date | null;
  lastRefreshedAt: Date | null;
  leaseOwner: string | null;
  leaseUntil: Date | null;
  nextAttemptAt: Date | null;
  failures: number;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A webhook's outbox: its `airtable.payloads` events not yet delivered, and the oldest one's last error. */
export interface AirtableWebhookDelivery {
  pending: number;
  lastError: string | null;
}

/** What {@link Store.createAirtableWebhook} stores before the upstream call (status `creating`). */
export interface NewAirtableWebhook {
  id: string;
  identifier: string;
  baseId: string;
  specification: Record<string, unknown>;
  notificationUrl: string;
  now: Date;
}

/** What Airtable answered to the creation. */
export interface AirtableWebhookActivation {
  airtableWebhookId: string;
  macSecret: string;
  expirationTime: Date | null;
  now: Date;
}

/** What a lease on an Airtable webhook is claimed for. */
export type AirtableWebhookWork =
  /** Fetch payloads: a verified ping is not yet covered, or the last fetch is older than `pollBefore`. */
  | { kind: "fetch"; pollBefore: Date }
  /** Refresh: it expires before `refreshBefore`. */
  | { kind: "refresh"; refreshBefore: Date };

/** A claim of an Airtable webhook's lease, for `leaseMs` from `now`. */
export interface AirtableWebhookLeaseRequest {
  owner: string;
  now: Date;
  leaseMs: number;
  work: AirtableWebhookWork;
}

/**
 * One fetched page, queued fenced on the cursor it was fetched from and on the lease: the event
 * (absent for an empty page) and the cursor move commit together or not at all.
 */
export interface PayloadPageSave {
  owner: string;
  /** The cursor the page was fetched from (the row must still be there). */
  cursor: number;
  nextCursor: number;
  event: NewEvent | null;
  now: Date;
  /** The lease is extended to `now + leaseMs` for the next page. */
  leaseMs: number;
}

/** The end of a lease: what the work found, fenced on the owner. */
export type AirtableWebhookRelease =
  /** A fetch reached the end of the payloads: pings up to `coveredPings` are handled. */
  | {
      kind: "fetched";
      owner: string;
      coveredPings: number;
      /** No instance fetches again before this (null: at once, when due). */
      cooldownUntil: Date | null;
      now: Date;
    }
  /** Stopped between pages (a shutdown): the lease is freed, nothing else changes. */
  | { kind: "yielded"; owner: string; now: Date }
  /** A refresh succeeded. */
  | { kind: "refreshed"; owner: string; expirationTime: Date | null; now: Date }
  /** A transient failure (or no token): try again after `nextAttemptAt`. */
  | { kind: "failed"; owner: string; error: string; nextAttemptAt: Date; now: Date }
  /** Airtable no longer has it: the status changes, with the event, once. */
  | { kind: "lost"; owner: string; status: "expired" | "deleted_upstream"; event: NewEvent; now: Date };

/** Webhooks with work due now: active, not leased, not backing off, on an active connection. */
export interface AirtableWebhooksDueQuery {
  now: Date;
  refreshBefore: Date;
  pollBefore: Date;
  limit: number;
}

/** What a named API key may call (issue 12): `admin` everything under /v1, `connect` only connect sessions, `proxy` only the proxy and access tokens. */
export type ApiKeyScope = "admin" | "connect" | "proxy";

/** A named API key as listed; the key itself is never stored, only its SHA-256. */
export interface ApiKeyRecord {
  /** `key_…` */
  id: string;
  name: string;
  scope: ApiKeyScope;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** An integration created through the API (the secret decrypted; null for a public client). */
export interface StoredIntegration {
  id: string;
  name: string;
  clientId: string;
  clientSecret: string | null;
  scopes: string[];
  createdAt: Date;
}

/** What {@link Store.createApiKey} stores. */
export interface NewApiKey {
  id: string;
  name: string;
  scope: ApiKeyScope;
  /** SHA-256 of the key, hex. */
  keyHash: string;
  now: Date;
}

export interface Store {
  readonly kind: "sqlite" | "postgres";
  /** The integration this store's per-connection methods act on (`default` unless a view). */
  readonly integration: string;
  /** Creates or upgrades the schema; safe when several instances start at once. */
  migrate(): Promise<void>;
  close(): Promise<void>;
  /**
   * The same store acting on another integration's connections: every method named by an
   * identifier (connections, leases, connect sessions and pending authorizations it creates,
   * events, Airtable webhooks it creates or lists) reads and writes that integration's rows only.
   * Lookups by a key unique across integrations (a link's or state's hash, a webhook id, the
   * outbox) find any integration's row, whose `integration` says which. A view shares the
   * connection; closing it does nothing.
   */
  forIntegration(integration: string): Store;

  // Connect sessions: token shown once, stored hashed, single use.
  createConnectSession(session: NewConnectSession): Promise<void>;
  /** The session while it is usable (known, unexpired, unused), without using it: a read only. */
  findLiveConnectSession(tokenHash: string, now: Date): Promise<ConnectSession | null>;
  /** Atomically marks the session used; null when unknown, expired or already used. */
  consumeConnectSession(tokenHash: string, now: Date): Promise<ConnectSession | null>;

  // Pending authorizations (one per redirect to Airtable); the verifier is encrypted at rest.
  createPendingAuthorization(pending: NewPendingAuthorization): Promise<void>;
  getPendingAuthorization(stateHash: string): Promise<PendingAuthorization | null>;
  /** Conditional update: true only for the first caller, and only while unexpired. */
  markPendingAuthorizationUsed(stateHash: string, now: Date): Promise<boolean>;
  /** Deletes expired connect sessions and pending authorizations; returns how many rows went. */
  purgeExpired(now: Date): Promise<number>;

  // Connections
  /** Creates the connection, or reconnects it in place (status active, version + 1, lease cleared). */
  upsertConnection(
    tokens: NewConnectionTokens,
    now: Date,
    event: (created: boolean) => NewEvent,
  ): Promise<UpsertedConnection>;
  getConnection(identifier: string): Promise<ConnectionRecord | null>;
  /**
   * Replaces the connection's metadata (null clears it); the version stays, no event is written.
   * False when no connection has this identifier.
   */
  setConnectionMetadata(identifier: string, metadata: ConnectionMetadata | null, now: Date): Promise<boolean>;
  listConnections(options: ListConnectionsOptions): Promise<ConnectionPage>;
  /**
   * Disconnects, keeping the row and its events: status `revoked` with `reason`, both tokens replaced
   * by an encrypted placeholder (the old tokens are gone), both expiries set to `now`, version + 1 and
   * the lease cleared (a refresh in flight can no longer save; caches on the old version are stale).
   * Reconnecting (upsertConnection) reactivates it. Writes `event` only when this call revoked it.
   */
  revokeConnection(identifier: string, update: RevokeRequest, event: NewEvent): Promise<RevokeOutcome>;
  /** This integration's connections by status. */
  countConnectionsByStatus(): Promise<ConnectionCounts>;
  /** The identifier's newest connect link and its progress, or null when none is stored. */
  latestConnectAttempt(identifier: string): Promise<ConnectAttempt | null>;

  // Refresh lease and fencing
  /**
   * One conditional UPDATE: succeeds only if the row is still at `version`, active, no live lease
   * exists (`lease_until` null or in the past) and no transient-failure backoff is pending
   * (`next_refresh_attempt_at` null or in the past).
   */
  claimRefreshLease(identifier: string, claim: LeaseRequest): Promise<LeaseClaim>;
  /**
   * Persists rotated tokens, fenced on `version` alone (the refresh token of a version rotates
   * once, so tokens obtained with it are the newest grant even if the lease was lost meanwhile):
   * version + 1, lease cleared, failures reset. `owner` names the writer (a lease owner, or the
   * rotation journal) for the record. False when the version moved or the connection is not active.
   */
  saveRefreshedTokens(identifier: string, update: RefreshSave, event?: NewEvent): Promise<boolean>;
  /** Moves a live lease's end; fenced on owner and version. False when the lease is no longer ours. */
  renewRefreshLease(identifier: string, renewal: LeaseRenewal): Promise<boolean>;
  /** Releases the lease after a transient failure, recording the backoff. Fenced on owner. */
  releaseRefreshLease(identifier: string, release: LeaseRelease): Promise<void>;
  /** Terminal: status reauth_required with a reason, fenced on version; lease cleared. */
  markReauthRequired(identifier: string, update: ReauthRequest, event: NewEvent): Promise<boolean>;
  /** Calls `listener(identifier, version)` when another process changes a connection (postgres LISTEN/NOTIFY); sqlite may never call it. */
  onConnectionChanged?(listener: (identifier: string, version: number) => void): () => void;

  // Keep-alive
  /** Active connections last refreshed before `refreshedBefore` (or never), oldest first; uses an index. */
  listDueForKeepAlive(options: KeepAliveQuery): Promise<string[]>;

  // Events and webhook outbox
  appendEvent(identifier: string, event: NewEvent): Promise<EventRecord>;
  listEvents(identifier: string, options: ListEventsOptions): Promise<EventRecord[]>;
  /** Leases up to `limit` undelivered events that are due; several instances never get the same one. */
  claimOutbox(options: OutboxClaim): Promise<OutboxItem[]>;
  markOutboxDelivered(id: string, now: Date): Promise<void>;
  markOutboxFailed(id: string, failure: OutboxFailure): Promise<void>;

  // Airtable webhooks (server/airtable-webhooks/)
  /** Inserts the row as `creating`, before Airtable is asked to create the webhook. */
  createAirtableWebhook(webhook: NewAirtableWebhook): Promise<void>;
  /** Stores Airtable's answer (the MAC secret encrypted, bound to the row) and makes it `active`. */
  activateAirtableWebhook(id: string, created: AirtableWebhookActivation): Promise<boolean>;
  getAirtableWebhook(id: string): Promise<AirtableWebhookRecord | null>;
  /** The webhook's MAC secret (decrypted), or null when unknown or not yet active. */
  getAirtableWebhookSecret(id: string): Promise<string | null>;
  /** A connection's webhooks, oldest first, with their outbox state. */
  listAirtableWebhooks(
    identifier: string,
  ): Promise<Array<AirtableWebhookRecord & { delivery: AirtableWebhookDelivery }>>;
  deleteAirtableWebhook(id: string): Promise<boolean>;
  /** Counts a verified ping (a fetch is now due); false when the webhook is unknown. */
  recordAirtableWebhookPing(id: string, now: Date): Promise<boolean>;
  /** One conditional UPDATE: the lease if the work is due and nobody holds it; the row as claimed. */
  claimAirtableWebhookLease(
    id: string,
    request: AirtableWebhookLeaseRequest,
  ): Promise<AirtableWebhookRecord | null>;
  /** Queues a fetched page and moves the cursor in one transaction; false when fenced out. */
  saveAirtablePayloadPage(id: string, page: PayloadPageSave): Promise<boolean>;
  /** Ends the lease with what the work found; false when the lease was no longer ours. */
  releaseAirtableWebhookLease(id: string, release: AirtableWebhookRelease): Promise<boolean>;
  /** Ids of webhooks with work due (see {@link AirtableWebhooksDueQuery}). */
  listAirtableWebhooksDue(query: AirtableWebhooksDueQuery): Promise<string[]>;
  /** Rows still `creating` that were created before `createdBefore` (their creator gave up or died). */
  listAbandonedAirtableWebhooks(createdBefore: Date, limit: number): Promise<AirtableWebhookRecord[]>;
  /** Deletes a row only while it is still `creating`. */
  deleteAbandonedAirtableWebhook(id: string): Promise<boolean>;

  // Key rotation
  /** Re-encrypts every secret column under the keyring's first key; returns rows rewritten. */
  reencryptAll(): Promise<number>;

  /** A tiny real write, committed: rejects (a `transient` AirlockError) when the store cannot write now. */
  checkWritable(): Promise<void>;

  // Retention
  /**
   * Deletes events created before `before`, delivered webhook events included, except events still
   * waiting in the outbox (undelivered webhooks are never dropped) and the newest event of each
   * identifier (a connection's history is never empty). Works in short batches of `batchSize`
   * (default 1000); returns how many events went.
   */
  pruneEvents(options: PruneEventsOptions): Promise<number>;

  // Dashboard sessions
  /** The dashboard's session epoch: signed-in sessions issued under an older one are refused (0 at first). */
  getSessionEpoch(): Promise<number>;
  /** Signs every dashboard session out, on every instance: moves the epoch on by one and returns it. */
  bumpSessionEpoch(): Promise<number>;

  // Named API keys
  createApiKey(key: NewApiKey): Promise<ApiKeyRecord>;
  /** Every key, revoked ones included, oldest first. */
  listApiKeys(): Promise<ApiKeyRecord[]>;
  /** The unrevoked key with this SHA-256 (hex), or null. */
  findActiveApiKey(keyHash: string): Promise<ApiKeyRecord | null>;
  /** Sets the last-used time, unless it was set less than a minute before `now`. */
  touchApiKey(id: string, now: Date): Promise<void>;
  /** Revokes a key (null: no such id); revoking twice keeps the first time. */
  revokeApiKey(id: string, now: Date): Promise<ApiKeyRecord | null>;

  // Integrations created through the API (every instance reads them)
  /** Stores one, the secret encrypted; false when its id or client id is already stored. */
  createStoredIntegration(integration: StoredIntegration): Promise<boolean>;
  /** Every stored integration, oldest first, secrets decrypted. */
  listStoredIntegrations(): Promise<StoredIntegration[]>;
  /** False when no such id is stored. */
  deleteStoredIntegration(id: string): Promise<boolean>;
}

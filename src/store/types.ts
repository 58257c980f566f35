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

/** What a connection looks like without its secrets (listing, dashboard, API responses). */
export interface ConnectionSummary {
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
}

export interface EventRecord {
  id: string;
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
  identifier: string;
  scopes: string[];
  returnUrl: string | null;
  expiresAt: Date;
  createdAt: Date;
}

export interface PendingAuthorization {
  stateHash: string;
  identifier: string;
  scopes: string[];
  returnUrl: string | null;
  codeVerifier: string;
  /** Hash of the random value in the browser's HttpOnly cookie that started this flow. */
  browserBindingHash: string;
  expiresAt: Date;
  usedAt: Date | null;
  createdAt: Date;
}

/** What {@link Store.createConnectSession} stores (the store stamps `createdAt`). */
export type NewConnectSession = Omit<ConnectSession, "createdAt">;

/** What {@link Store.createPendingAuthorization} stores (the store sets it unused and stamps `createdAt`). */
export type NewPendingAuthorization = Omit<PendingAuthorization, "usedAt" | "createdAt">;

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
export type RefreshedTokens = Omit<NewConnectionTokens, "identifier" | "airtableUserId" | "email">;

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

export interface Store {
  readonly kind: "sqlite" | "postgres";
  /** Creates or upgrades the schema; safe when several instances start at once. */
  migrate(): Promise<void>;
  close(): Promise<void>;

  // Connect sessions: token shown once, stored hashed, single use.
  createConnectSession(session: NewConnectSession): Promise<void>;
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
  listConnections(options: ListConnectionsOptions): Promise<ConnectionPage>;
  /**
   * Disconnects, keeping the row and its events: status `revoked` with `reason`, both tokens replaced
   * by an encrypted placeholder (the old tokens are gone), both expiries set to `now`, version + 1 and
   * the lease cleared (a refresh in flight can no longer save; caches on the old version are stale).
   * Reconnecting (upsertConnection) reactivates it. Writes `event` only when this call revoked it.
   */
  revokeConnection(identifier: string, update: RevokeRequest, event: NewEvent): Promise<RevokeOutcome>;
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
}

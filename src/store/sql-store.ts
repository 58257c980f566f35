/**
 * The one SQL implementation of {@link Store}, over Kysely. The dialect differences (locking the
 * outbox scan, announcing connection changes, guarding migrations) live in a small
 * {@link SqlDialect} object supplied by sqlite.ts or postgres.ts; everything else is shared, one
 * module per concern under sql/:
 *
 * - sql/connect-flow.ts: connect sessions, pending authorizations, connect attempts
 * - sql/connections.ts: connect, read, list, count, disconnect, the keep-alive scan
 * - sql/leases.ts: the refresh lease and fencing
 * - sql/events.ts: events and retention; sql/outbox.ts: the webhook outbox
 * - sql/airtable-webhooks.ts: Airtable webhooks kept for connections, their lease and cursor
 * - sql/api-keys.ts: named API keys, stored hashed
 * - sql/stored-integrations.ts: integrations created through the API, secrets encrypted
 * - sql/reencrypt.ts: key rotation; sql/one-row-tables.ts: the write check, the session epoch
 * - sql/rows.ts: rows to records
 *
 * Every method is one statement or one short transaction; nothing here waits on the network
 * while holding a lock.
 */
import { type Kysely, Migrator } from "kysely";
import { AirlockError } from "../shared/errors.js";
import { type Logger, silentLogger } from "../shared/log.js";
import type { ConnectionListener } from "./change-feed.js";
import type { Keyring } from "./crypto.js";
import { migrationProvider, type SqlKind } from "./migrations.js";
import type { Database } from "./schema.js";
import * as airtableWebhooks from "./sql/airtable-webhooks.js";
import * as apiKeys from "./sql/api-keys.js";
import * as connectFlow from "./sql/connect-flow.js";
import * as connections from "./sql/connections.js";
import {
  type Clock,
  DEFAULT_INTEGRATION,
  parseConnectionKey,
  type SqlContext,
  systemClock,
} from "./sql/context.js";
import type { SqlDialect } from "./sql/dialect.js";
import * as events from "./sql/events.js";
import * as leases from "./sql/leases.js";
import * as oneRowTables from "./sql/one-row-tables.js";
import * as outbox from "./sql/outbox.js";
import { reencryptAll } from "./sql/reencrypt.js";
import * as storedIntegrations from "./sql/stored-integrations.js";
import type {
  AirtableWebhookActivation,
  AirtableWebhookDelivery,
  AirtableWebhookLeaseRequest,
  AirtableWebhookRecord,
  AirtableWebhookRelease,
  AirtableWebhooksDueQuery,
  ApiKeyRecord,
  ConnectAttempt,
  ConnectionCounts,
  ConnectionMetadata,
  ConnectionPage,
  ConnectionRecord,
  ConnectSession,
  EventRecord,
  KeepAliveQuery,
  LeaseClaim,
  LeaseRelease,
  LeaseRenewal,
  LeaseRequest,
  ListConnectionsOptions,
  ListEventsOptions,
  NewAirtableWebhook,
  NewApiKey,
  NewConnectionTokens,
  NewConnectSession,
  NewEvent,
  NewPendingAuthorization,
  OutboxClaim,
  OutboxFailure,
  OutboxItem,
  PayloadPageSave,
  PendingAuthorization,
  PruneEventsOptions,
  ReauthRequest,
  RefreshSave,
  RevokeOutcome,
  RevokeRequest,
  Store,
  StoredIntegration,
  UpsertedConnection,
} from "./types.js";

export type { Clock } from "./sql/context.js";
export type { SqlDialect } from "./sql/dialect.js";

export interface SqlStoreOptions {
  keyring: Keyring;
  /** Event types that also go to the webhook outbox; null or absent: none. */
  webhookEvents?: ReadonlySet<string> | null | undefined;
  logger?: Logger | undefined;
  /**
   * The clock for the times the store stamps itself (creation times, write checks, event ids);
   * default: the system clock. Times passed to a method as `now` are used as given.
   */
  now?: Clock | undefined;
}

/**
 * @example
 * const store = new SqlStore(db, sqliteDialect, { keyring });
 * await store.migrate();
 */
export class SqlStore implements Store {
  readonly kind: SqlKind;
  readonly #sql: SqlContext;
  readonly #log: Logger;
  /** Views made by `forIntegration` share the root's connection and leave closing it to the root. */
  readonly #isView: boolean;
  #closed = false;

  /** `view` is `forIntegration`'s: the integration it acts on, sharing the root's connection. */
  constructor(
    db: Kysely<Database>,
    dialect: SqlDialect,
    options: SqlStoreOptions,
    view?: { integration: string },
  ) {
    this.kind = dialect.kind;
    this.#sql = {
      db,
      dialect,
      keyring: options.keyring,
      webhookEvents: options.webhookEvents ?? null,
      now: options.now ?? systemClock,
      integration: view?.integration ?? DEFAULT_INTEGRATION,
    };
    this.#log = options.logger ?? silentLogger;
    this.#isView = view !== undefined;
  }

  get integration(): string {
    return this.#sql.integration;
  }

  forIntegration(integration: string): SqlStore {
    if (integration === this.#sql.integration) return this;
    const { db, dialect, keyring, webhookEvents, now } = this.#sql;
    return new SqlStore(db, dialect, { keyring, webhookEvents, now, logger: this.#log }, { integration });
  }

  async migrate(): Promise<void> {
    const { db, dialect } = this.#sql;
    const migrator = new Migrator({
      db,
      provider: migrationProvider(this.kind),
      ...(dialect.migrationTableSchema ? { migrationTableSchema: dialect.migrationTableSchema } : {}),
    });
    await dialect.guardMigration(async () => {
      const { error, results } = await migrator.migrateToLatest();
      for (const result of results ?? []) {
        if (result.status === "Success")
          this.#log.info({ migration: result.migrationName }, "migration applied");
      }
      if (error) {
        throw new AirlockError("internal", "The database schema migration failed.", {
          hint: "Check that DATABASE_URL points at a database Airlock may create tables in, then restart.",
          cause: error,
        });
      }
    });
  }

  async close(): Promise<void> {
    if (this.#closed || this.#isView) return;
    this.#closed = true;
    // The dialect owns the connection (SQLite shares one per file within a process).
    await this.#sql.dialect.close();
  }

  // Connect sessions and pending authorizations: sql/connect-flow.ts ---------------------------

  createConnectSession(session: NewConnectSession): Promise<void> {
    return connectFlow.createConnectSession(this.#sql, session);
  }

  findLiveConnectSession(tokenHash: string, now: Date): Promise<ConnectSession | null> {
    return connectFlow.findLiveConnectSession(this.#sql, tokenHash, now);
  }

  consumeConnectSession(tokenHash: string, now: Date): Promise<ConnectSession | null> {
    return connectFlow.consumeConnectSession(this.#sql, tokenHash, now);
  }

  createPendingAuthorization(pending: NewPendingAuthorization): Promise<void> {
    return connectFlow.createPendingAuthorization(this.#sql, pending);
  }

  getPendingAuthorization(stateHash: string): Promise<PendingAuthorization | null> {
    return connectFlow.getPendingAuthorization(this.#sql, stateHash);
  }

  markPendingAuthorizationUsed(stateHash: string, now: Date): Promise<boolean> {
    return connectFlow.markPendingAuthorizationUsed(this.#sql, stateHash, now);
  }

  purgeExpired(now: Date): Promise<number> {
    return connectFlow.purgeExpired(this.#sql, now);
  }

  latestConnectAttempt(identifier: string): Promise<ConnectAttempt | null> {
    return connectFlow.latestConnectAttempt(this.#sql, identifier);
  }

  // Connections: sql/connections.ts ------------------------------------------------------------

  upsertConnection(
    tokens: NewConnectionTokens,
    now: Date,
    event: (created: boolean) => NewEvent,
  ): Promise<UpsertedConnection> {
    return connections.upsertConnection(this.#sql, tokens, now, event);
  }

  getConnection(identifier: string): Promise<ConnectionRecord | null> {
    return connections.getConnection(this.#sql, identifier);
  }

  setConnectionMetadata(
    identifier: string,
    metadata: ConnectionMetadata | null,
    now: Date,
  ): Promise<boolean> {
    return connections.setConnectionMetadata(this.#sql, identifier, metadata, now);
  }

  listConnections(options: ListConnectionsOptions): Promise<ConnectionPage> {
    return connections.listConnections(this.#sql, options);
  }

  countConnectionsByStatus(): Promise<ConnectionCounts> {
    return connections.countConnectionsByStatus(this.#sql);
  }

  revokeConnection(identifier: string, update: RevokeRequest, event: NewEvent): Promise<RevokeOutcome> {
    return connections.revokeConnection(this.#sql, identifier, update, event);
  }

  listDueForKeepAlive(options: KeepAliveQuery): Promise<string[]> {
    return connections.listDueForKeepAlive(this.#sql, options);
  }

  // Refresh lease and fencing: sql/leases.ts ---------------------------------------------------

  claimRefreshLease(identifier: string, claim: LeaseRequest): Promise<LeaseClaim> {
    return leases.claimRefreshLease(this.#sql, identifier, claim);
  }

  saveRefreshedTokens(identifier: string, update: RefreshSave, event?: NewEvent): Promise<boolean> {
    return leases.saveRefreshedTokens(this.#sql, identifier, update, event);
  }

  renewRefreshLease(identifier: string, renewal: LeaseRenewal): Promise<boolean> {
    return leases.renewRefreshLease(this.#sql, identifier, renewal);
  }

  releaseRefreshLease(identifier: string, release: LeaseRelease): Promise<void> {
    return leases.releaseRefreshLease(this.#sql, identifier, release);
  }

  markReauthRequired(identifier: string, update: ReauthRequest, event: NewEvent): Promise<boolean> {
    return leases.markReauthRequired(this.#sql, identifier, update, event);
  }

  /** Changes of this store's integration's connections only (the feed carries every integration's). */
  onConnectionChanged(listener: ConnectionListener): () => void {
    const mine = this.#sql.integration;
    return this.#sql.dialect.subscribe((key, version) => {
      const { integration, identifier } = parseConnectionKey(key);
      if (integration === mine) listener(identifier, version);
    });
  }

  /**
   * Resolves once changes made by other processes reach `onConnectionChanged` listeners
   * (PostgreSQL's LISTEN connection is up; immediately on SQLite, which only announces in-process).
   */
  async whenListening(): Promise<void> {
    await this.#sql.dialect.ready?.();
  }

  // Events, retention and the webhook outbox: sql/events.ts, sql/outbox.ts --------------------

  appendEvent(identifier: string, event: NewEvent): Promise<EventRecord> {
    return events.appendEvent(this.#sql, identifier, event);
  }

  listEvents(identifier: string, options: ListEventsOptions): Promise<EventRecord[]> {
    return events.listEvents(this.#sql, identifier, options);
  }

  pruneEvents(options: PruneEventsOptions): Promise<number> {
    return events.pruneEvents(this.#sql, options);
  }

  claimOutbox(options: OutboxClaim): Promise<OutboxItem[]> {
    return outbox.claimOutbox(this.#sql, options);
  }

  markOutboxDelivered(id: string, now: Date): Promise<void> {
    return outbox.markOutboxDelivered(this.#sql, id, now);
  }

  markOutboxFailed(id: string, failure: OutboxFailure): Promise<void> {
    return outbox.markOutboxFailed(this.#sql, id, failure);
  }

  // Airtable webhooks: sql/airtable-webhooks.ts ----------------------------------------------

  createAirtableWebhook(webhook: NewAirtableWebhook): Promise<void> {
    return airtableWebhooks.createAirtableWebhook(this.#sql, webhook);
  }

  activateAirtableWebhook(id: string, created: AirtableWebhookActivation): Promise<boolean> {
    return airtableWebhooks.activateAirtableWebhook(this.#sql, id, created);
  }

  getAirtableWebhook(id: string): Promise<AirtableWebhookRecord | null> {
    return airtableWebhooks.getAirtableWebhook(this.#sql, id);
  }

  getAirtableWebhookSecret(id: string): Promise<string | null> {
    return airtableWebhooks.getAirtableWebhookSecret(this.#sql, id);
  }

  listAirtableWebhooks(
    identifier: string,
  ): Promise<Array<AirtableWebhookRecord & { delivery: AirtableWebhookDelivery }>> {
    return airtableWebhooks.listAirtableWebhooks(this.#sql, identifier);
  }

  deleteAirtableWebhook(id: string): Promise<boolean> {
    return airtableWebhooks.deleteAirtableWebhook(this.#sql, id);
  }

  recordAirtableWebhookPing(id: string, now: Date): Promise<boolean> {
    return airtableWebhooks.recordAirtableWebhookPing(this.#sql, id, now);
  }

  claimAirtableWebhookLease(
    id: string,
    request: AirtableWebhookLeaseRequest,
  ): Promise<AirtableWebhookRecord | null> {
    return airtableWebhooks.claimAirtableWebhookLease(this.#sql, id, request);
  }

  saveAirtablePayloadPage(id: string, page: PayloadPageSave): Promise<boolean> {
    return airtableWebhooks.saveAirtablePayloadPage(this.#sql, id, page);
  }

  releaseAirtableWebhookLease(id: string, release: AirtableWebhookRelease): Promise<boolean> {
    return airtableWebhooks.releaseAirtableWebhookLease(this.#sql, id, release);
  }

  listAirtableWebhooksDue(query: AirtableWebhooksDueQuery): Promise<string[]> {
    return airtableWebhooks.listAirtableWebhooksDue(this.#sql, query);
  }

  listAbandonedAirtableWebhooks(createdBefore: Date, limit: number): Promise<AirtableWebhookRecord[]> {
    return airtableWebhooks.listAbandonedAirtableWebhooks(this.#sql, createdBefore, limit);
  }

  deleteAbandonedAirtableWebhook(id: string): Promise<boolean> {
    return airtableWebhooks.deleteAbandonedAirtableWebhook(this.#sql, id);
  }

  // Key rotation, health, dashboard sessions: sql/reencrypt.ts, sql/one-row-tables.ts ---------

  reencryptAll(): Promise<number> {
    return reencryptAll(this.#sql);
  }

  checkWritable(): Promise<void> {
    return oneRowTables.checkWritable(this.#sql);
  }

  getSessionEpoch(): Promise<number> {
    return oneRowTables.getSessionEpoch(this.#sql);
  }

  bumpSessionEpoch(): Promise<number> {
    return oneRowTables.bumpSessionEpoch(this.#sql);
  }

  // Named API keys: sql/api-keys.ts ----------------------------------------------------------

  createApiKey(key: NewApiKey): Promise<ApiKeyRecord> {
    return apiKeys.createApiKey(this.#sql, key);
  }

  listApiKeys(): Promise<ApiKeyRecord[]> {
    return apiKeys.listApiKeys(this.#sql);
  }

  findActiveApiKey(keyHash: string): Promise<ApiKeyRecord | null> {
    return apiKeys.findActiveApiKey(this.#sql, keyHash);
  }

  touchApiKey(id: string, now: Date): Promise<void> {
    return apiKeys.touchApiKey(this.#sql, id, now);
  }

  revokeApiKey(id: string, now: Date): Promise<ApiKeyRecord | null> {
    return apiKeys.revokeApiKey(this.#sql, id, now);
  }

  // Integrations created through the API: sql/stored-integrations.ts ------------------------------

  createStoredIntegration(integration: StoredIntegration): Promise<boolean> {
    return storedIntegrations.createStoredIntegration(this.#sql, integration);
  }

  listStoredIntegrations(): Promise<StoredIntegration[]> {
    return storedIntegrations.listStoredIntegrations(this.#sql);
  }

  deleteStoredIntegration(id: string): Promise<boolean> {
    return storedIntegrations.deleteStoredIntegration(this.#sql, id);
  }
}

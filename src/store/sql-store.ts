/**
 * The one SQL implementation of {@link Store}, over Kysely. The dialect differences (locking the
 * outbox scan, announcing connection changes, guarding migrations) live in a small
 * {@link SqlDialect} object supplied by sqlite.ts or postgres.ts; everything else is shared.
 *
 * Every method is one statement or one short transaction; nothing here waits on the network
 * while holding a lock.
 */
import { randomBytes } from "node:crypto";
import { type Kysely, Migrator, type SelectQueryBuilder, sql, type Transaction } from "kysely";
import { AirlockError } from "../shared/errors.js";
import { type Logger, silentLogger } from "../shared/log.js";
import type { ConnectionListener } from "./change-feed.js";
import { encryptionContext, type Keyring } from "./crypto.js";
import { migrationProvider, type SqlKind } from "./migrations.js";
import type { ConnectionsTable, Database, EventsTable } from "./schema.js";
import type {
  ConnectAttempt,
  ConnectionRecord,
  ConnectionStatus,
  ConnectionSummary,
  ConnectSession,
  EventRecord,
  LeaseClaim,
  LeaseRenewal,
  NewConnectionTokens,
  NewEvent,
  OutboxItem,
  PendingAuthorization,
  RefreshedTokens,
  RevokeOutcome,
  Store,
} from "./types.js";

/** The parts of a store that differ between SQLite and PostgreSQL. */
export interface SqlDialect {
  readonly kind: SqlKind;
  /** Extra migrator settings (PostgreSQL: the schema holding Kysely's bookkeeping tables). */
  readonly migrationTableSchema?: string | undefined;
  /** Runs `migrate` so that concurrent instances never apply the same migration twice. */
  guardMigration(migrate: () => Promise<void>): Promise<void>;
  /** Inside the changing transaction (PostgreSQL: NOTIFY, delivered on commit). */
  announceInTransaction(trx: Transaction<Database>, identifier: string, version: number): Promise<void>;
  /** After the commit (SQLite: tell this process's listeners). */
  announceAfterCommit(identifier: string, version: number): void;
  subscribe(listener: ConnectionListener): () => void;
  /** Row-locks the outbox candidates so concurrent claimers skip each other (PostgreSQL). */
  lockOutboxCandidates<O>(
    query: SelectQueryBuilder<Database, "events", O>,
  ): SelectQueryBuilder<Database, "events", O>;
  /** Resolves once cross-process change notifications are being received (PostgreSQL). */
  ready?(): Promise<void>;
  close(): Promise<void>;
}

export interface SqlStoreOptions {
  keyring: Keyring;
  /** Event types that also go to the webhook outbox; null or absent: none. */
  webhookEvents?: ReadonlySet<string> | null | undefined;
  logger?: Logger | undefined;
}

const STATUSES: readonly ConnectionStatus[] = ["active", "reauth_required", "revoked"];
const REENCRYPT_PAGE = 200;
const MAX_ERROR_LENGTH = 1000;
/** A new grant, a saved refresh or a disconnect: no lease, no takeover, no failures, no backoff. */
const REFRESH_STATE_RESET = {
  lease_owner: null,
  lease_until: null,
  lease_takeover: 0,
  refresh_failures: 0,
  next_refresh_attempt_at: null,
} as const;

type ConnectionRow = ConnectionsTable;
type EventRow = Omit<EventsTable, "attempts"> & { attempts: number };

/**
 * @example
 * const store = new SqlStore(db, sqliteDialect, { keyring });
 * await store.migrate();
 */
export class SqlStore implements Store {
  readonly kind: SqlKind;
  readonly #db: Kysely<Database>;
  readonly #dialect: SqlDialect;
  readonly #keyring: Keyring;
  readonly #webhookEvents: ReadonlySet<string> | null;
  readonly #log: Logger;
  #closed = false;

  constructor(db: Kysely<Database>, dialect: SqlDialect, options: SqlStoreOptions) {
    this.kind = dialect.kind;
    this.#db = db;
    this.#dialect = dialect;
    this.#keyring = options.keyring;
    this.#webhookEvents = options.webhookEvents ?? null;
    this.#log = options.logger ?? silentLogger;
  }

  async migrate(): Promise<void> {
    const migrator = new Migrator({
      db: this.#db,
      provider: migrationProvider(this.kind),
      ...(this.#dialect.migrationTableSchema
        ? { migrationTableSchema: this.#dialect.migrationTableSchema }
        : {}),
    });
    await this.#dialect.guardMigration(async () => {
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
    if (this.#closed) return;
    this.#closed = true;
    // The dialect owns the connection (SQLite shares one per file within a process).
    await this.#dialect.close();
  }

  // Connect sessions ------------------------------------------------------------------------

  async createConnectSession(session: Omit<ConnectSession, "createdAt">): Promise<void> {
    await this.#db
      .insertInto("connect_sessions")
      .values({
        token_hash: session.tokenHash,
        identifier: session.identifier,
        scopes: JSON.stringify(session.scopes),
        return_url: session.returnUrl,
        expires_at: session.expiresAt.getTime(),
        created_at: Date.now(),
        used_at: null,
      })
      .execute();
  }

  async consumeConnectSession(tokenHash: string, now: Date): Promise<ConnectSession | null> {
    const row = await this.#db
      .updateTable("connect_sessions")
      .set({ used_at: now.getTime() })
      .where("token_hash", "=", tokenHash)
      .where("used_at", "is", null)
      .where("expires_at", ">", now.getTime())
      .returningAll()
      .executeTakeFirst();
    if (!row) return null;
    return {
      tokenHash: row.token_hash,
      identifier: row.identifier,
      scopes: parseList(row.scopes),
      returnUrl: row.return_url,
      expiresAt: new Date(row.expires_at),
      createdAt: new Date(row.created_at),
    };
  }

  // Pending authorizations --------------------------------------------------------------------

  async createPendingAuthorization(
    pending: Omit<PendingAuthorization, "usedAt" | "createdAt">,
  ): Promise<void> {
    await this.#db
      .insertInto("pending_authorizations")
      .values({
        state_hash: pending.stateHash,
        identifier: pending.identifier,
        scopes: JSON.stringify(pending.scopes),
        return_url: pending.returnUrl,
        code_verifier_enc: this.#keyring.encrypt(pending.codeVerifier, verifierContext(pending.stateHash)),
        browser_binding_hash: pending.browserBindingHash,
        expires_at: pending.expiresAt.getTime(),
        used_at: null,
        created_at: Date.now(),
      })
      .execute();
  }

  async getPendingAuthorization(stateHash: string): Promise<PendingAuthorization | null> {
    const row = await this.#db
      .selectFrom("pending_authorizations")
      .selectAll()
      .where("state_hash", "=", stateHash)
      .executeTakeFirst();
    if (!row) return null;
    return {
      stateHash: row.state_hash,
      identifier: row.identifier,
      scopes: parseList(row.scopes),
      returnUrl: row.return_url,
      codeVerifier: this.#keyring.decrypt(row.code_verifier_enc, verifierContext(row.state_hash)),
      browserBindingHash: row.browser_binding_hash,
      expiresAt: new Date(row.expires_at),
      usedAt: toDate(row.used_at),
      createdAt: new Date(row.created_at),
    };
  }

  async markPendingAuthorizationUsed(stateHash: string, now: Date): Promise<boolean> {
    const result = await this.#db
      .updateTable("pending_authorizations")
      .set({ used_at: now.getTime() })
      .where("state_hash", "=", stateHash)
      .where("used_at", "is", null)
      .where("expires_at", ">", now.getTime())
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  async purgeExpired(now: Date): Promise<number> {
    const at = now.getTime();
    const sessions = await this.#db
      .deleteFrom("connect_sessions")
      .where("expires_at", "<=", at)
      .executeTakeFirst();
    const pending = await this.#db
      .deleteFrom("pending_authorizations")
      .where("expires_at", "<=", at)
      .executeTakeFirst();
    return Number(sessions.numDeletedRows) + Number(pending.numDeletedRows);
  }

  // Connections -----------------------------------------------------------------------------

  async upsertConnection(
    tokens: NewConnectionTokens,
    now: Date,
    event: (created: boolean) => NewEvent,
  ): Promise<{ created: boolean; connection: ConnectionRecord }> {
    const at = now.getTime();
    const id = tokens.identifier;
    const values = {
      status: "active",
      status_reason: null,
      scopes: JSON.stringify(tokens.scopes),
      airtable_user_id: tokens.airtableUserId,
      email: tokens.email,
      access_token_enc: this.#keyring.encrypt(tokens.accessToken, tokenContext("access_token", id)),
      refresh_token_enc: this.#keyring.encrypt(tokens.refreshToken, tokenContext("refresh_token", id)),
      access_token_expires_at: tokens.accessTokenExpiresAt.getTime(),
      refresh_token_expires_at: tokens.refreshTokenExpiresAt.getTime(),
      last_refreshed_at: at,
      updated_at: at,
      ...REFRESH_STATE_RESET,
    } as const;
    const row = await this.#db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto("connections")
        .values({ identifier: id, created_at: at, version: 1, ...values })
        .onConflict((oc) =>
          oc.column("identifier").doUpdateSet({ ...values, version: sql<number>`connections.version + 1` }),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
      // A fresh insert starts at version 1; a reconnect in place always bumps an existing version past it.
      await this.#insertEvent(trx, id, event(row.version === 1), at);
      await this.#dialect.announceInTransaction(trx, id, row.version);
      return row;
    });
    this.#dialect.announceAfterCommit(id, row.version);
    return { created: row.version === 1, connection: this.#toRecord(row) };
  }

  async getConnection(identifier: string): Promise<ConnectionRecord | null> {
    const row = await this.#db
      .selectFrom("connections")
      .selectAll()
      .where("identifier", "=", identifier)
      .executeTakeFirst();
    return row ? this.#toRecord(row) : null;
  }

  async listConnections(options: {
    limit: number;
    after?: string | undefined;
    status?: ConnectionStatus | undefined;
  }): Promise<{ items: ConnectionSummary[]; nextCursor: string | null }> {
    const limit = Math.max(1, Math.floor(options.limit));
    let query = this.#db
      .selectFrom("connections")
      .selectAll()
      .orderBy("identifier")
      .limit(limit + 1);
    if (options.after !== undefined) query = query.where("identifier", ">", options.after);
    if (options.status !== undefined) query = query.where("status", "=", options.status);
    const rows = await query.execute();
    const page = rows.slice(0, limit);
    return {
      items: page.map(toSummary),
      nextCursor: rows.length > limit ? (page.at(-1)?.identifier ?? null) : null,
    };
  }

  async countConnectionsByStatus(): Promise<Record<ConnectionStatus, number>> {
    const rows = await this.#db
      .selectFrom("connections")
      .select(["status", (eb) => eb.fn.countAll<number>().as("count")])
      .groupBy("status")
      .execute();
    const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<ConnectionStatus, number>;
    for (const row of rows) {
      if ((STATUSES as readonly string[]).includes(row.status)) {
        counts[row.status as ConnectionStatus] = Number(row.count);
      }
    }
    return counts;
  }

  // Refresh lease and fencing ---------------------------------------------------------------

  async claimRefreshLease(
    identifier: string,
    claim: { owner: string; version: number; now: Date; leaseMs: number },
  ): Promise<LeaseClaim> {
    const at = claim.now.getTime();
    const row = await this.#db
      .updateTable("connections")
      .set({
        lease_owner: claim.owner,
        lease_until: at + claim.leaseMs,
        // SET expressions see the row before the update: a non-null owner here means the previous
        // lease expired without a release or a save. The flag stays set until a refresh succeeds.
        lease_takeover: sql<number>`case when lease_owner is not null or lease_takeover = 1 then 1 else 0 end`,
      })
      .where("identifier", "=", identifier)
      .where("version", "=", claim.version)
      .where("status", "=", "active")
      .where((eb) => eb.or([eb("lease_until", "is", null), eb("lease_until", "<=", at)]))
      // A transient-failure backoff binds every instance, not just the one that recorded it.
      .where((eb) =>
        eb.or([eb("next_refresh_attempt_at", "is", null), eb("next_refresh_attempt_at", "<=", at)]),
      )
      .returning(["lease_takeover"])
      .executeTakeFirst();
    return row ? { claimed: true, takeover: Number(row.lease_takeover) === 1 } : { claimed: false };
  }

  async saveRefreshedTokens(
    identifier: string,
    update: {
      owner: string;
      version: number;
      tokens: RefreshedTokens;
      now: Date;
    },
    event?: NewEvent,
  ): Promise<boolean> {
    const at = update.now.getTime();
    const { tokens } = update;
    const accessTokenEnc = this.#keyring.encrypt(
      tokens.accessToken,
      tokenContext("access_token", identifier),
    );
    const refreshTokenEnc = this.#keyring.encrypt(
      tokens.refreshToken,
      tokenContext("refresh_token", identifier),
    );
    const saved = await this.#db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable("connections")
        .set({
          scopes: JSON.stringify(tokens.scopes),
          access_token_enc: accessTokenEnc,
          refresh_token_enc: refreshTokenEnc,
          access_token_expires_at: tokens.accessTokenExpiresAt.getTime(),
          refresh_token_expires_at: tokens.refreshTokenExpiresAt.getTime(),
          last_refreshed_at: at,
          updated_at: at,
          version: update.version + 1,
          ...REFRESH_STATE_RESET,
        })
        // Fenced on the version alone: whoever holds the lease now, these tokens came from the
        // refresh token of this version, which Airtable accepts once, so they are the newest grant.
        .where("identifier", "=", identifier)
        .where("version", "=", update.version)
        .where("status", "=", "active")
        .executeTakeFirst();
      if (result.numUpdatedRows !== 1n) return false;
      if (event) await this.#insertEvent(trx, identifier, event, at);
      await this.#dialect.announceInTransaction(trx, identifier, update.version + 1);
      return true;
    });
    if (saved) this.#dialect.announceAfterCommit(identifier, update.version + 1);
    return saved;
  }

  async renewRefreshLease(identifier: string, renewal: LeaseRenewal): Promise<boolean> {
    const result = await this.#db
      .updateTable("connections")
      .set({ lease_until: renewal.until.getTime() })
      .where("identifier", "=", identifier)
      .where("version", "=", renewal.version)
      .where("lease_owner", "=", renewal.owner)
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  async releaseRefreshLease(
    identifier: string,
    release: { owner: string; failed: boolean; nextAttemptAt: Date | null; uncertain?: boolean | undefined },
  ): Promise<void> {
    const row = await this.#db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable("connections")
        .set({
          lease_owner: null,
          lease_until: null,
          refresh_failures: release.failed
            ? sql<number>`refresh_failures + 1`
            : sql<number>`refresh_failures`,
          next_refresh_attempt_at: release.nextAttemptAt?.getTime() ?? null,
          ...(release.uncertain ? { lease_takeover: 1 } : {}),
        })
        .where("identifier", "=", identifier)
        .where("lease_owner", "=", release.owner)
        .returning(["version"])
        .executeTakeFirst();
      // Wake the waiters: the version did not move, but the lease is free and the backoff is recorded.
      if (row) await this.#dialect.announceInTransaction(trx, identifier, Number(row.version));
      return row;
    });
    if (row) this.#dialect.announceAfterCommit(identifier, Number(row.version));
  }

  async markReauthRequired(
    identifier: string,
    update: { version: number; reason: string; now: Date },
    event: NewEvent,
  ): Promise<boolean> {
    const at = update.now.getTime();
    const marked = await this.#db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable("connections")
        .set({
          status: "reauth_required",
          status_reason: update.reason,
          // A status change also moves the version: leases claimed on the old one can no longer save.
          version: update.version + 1,
          updated_at: at,
          lease_owner: null,
          lease_until: null,
          lease_takeover: 0,
          next_refresh_attempt_at: null,
        })
        .where("identifier", "=", identifier)
        .where("version", "=", update.version)
        .where("status", "=", "active")
        .executeTakeFirst();
      if (result.numUpdatedRows !== 1n) return false;
      await this.#insertEvent(trx, identifier, event, at);
      await this.#dialect.announceInTransaction(trx, identifier, update.version + 1);
      return true;
    });
    if (marked) this.#dialect.announceAfterCommit(identifier, update.version + 1);
    return marked;
  }

  onConnectionChanged(listener: ConnectionListener): () => void {
    return this.#dialect.subscribe(listener);
  }

  /**
   * Resolves once changes made by other processes reach `onConnectionChanged` listeners
   * (PostgreSQL's LISTEN connection is up; immediately on SQLite, which only announces in-process).
   */
  async whenListening(): Promise<void> {
    await this.#dialect.ready?.();
  }

  // Keep-alive ----------------------------------------------------------------------------------

  async listDueForKeepAlive(options: { refreshedBefore: Date; limit: number }): Promise<string[]> {
    const before = options.refreshedBefore.getTime();
    const rows = await this.#db
      .selectFrom("connections")
      .select("identifier")
      .where("status", "=", "active")
      .where("last_refreshed_at", "<", before)
      .orderBy("last_refreshed_at")
      .limit(Math.max(1, Math.floor(options.limit)))
      .execute();
    // Rows written by hand without a refresh time are due too (never produced by this store).
    if (rows.length < options.limit) {
      const never = await this.#db
        .selectFrom("connections")
        .select("identifier")
        .where("status", "=", "active")
        .where("last_refreshed_at", "is", null)
        .limit(Math.max(1, Math.floor(options.limit)) - rows.length)
        .execute();
      return [...never, ...rows].map((r) => r.identifier);
    }
    return rows.map((r) => r.identifier);
  }

  // Events and webhook outbox -------------------------------------------------------------------

  async appendEvent(identifier: string, event: NewEvent): Promise<EventRecord> {
    const row = await this.#db
      .transaction()
      .execute((trx) => this.#insertEvent(trx, identifier, event, Date.now()));
    return toEvent(row);
  }

  async listEvents(identifier: string, options: { limit: number }): Promise<EventRecord[]> {
    const rows = await this.#db
      .selectFrom("events")
      .selectAll()
      .where("identifier", "=", identifier)
      .orderBy("id", "desc")
      .limit(Math.max(1, Math.floor(options.limit)))
      .execute();
    return rows.map(toEvent);
  }

  async claimOutbox(options: {
    owner: string;
    now: Date;
    limit: number;
    leaseMs: number;
  }): Promise<OutboxItem[]> {
    const at = options.now.getTime();
    const due = (
      query: SelectQueryBuilder<Database, "events", { id: string }>,
    ): SelectQueryBuilder<Database, "events", { id: string }> =>
      query
        .where("webhook_state", "=", "pending")
        .where("next_attempt_at", "<=", at)
        .where((eb) => eb.or([eb("lease_until", "is", null), eb("lease_until", "<=", at)]));
    const candidates = this.#dialect.lockOutboxCandidates(
      due(this.#db.selectFrom("events").select("id"))
        .orderBy("next_attempt_at")
        .orderBy("id")
        .limit(Math.max(1, Math.floor(options.limit))),
    );
    // One UPDATE ... WHERE id IN (due candidates) ... RETURNING: a single atomic statement. SQLite
    // serialises writers; PostgreSQL skips rows another claimer has locked and re-checks the due
    // condition on the rows it does get.
    const rows = await this.#db
      .updateTable("events")
      .set({
        lease_owner: options.owner,
        lease_until: at + options.leaseMs,
        attempts: sql<number>`attempts + 1`,
      })
      .where("id", "in", candidates)
      .where("webhook_state", "=", "pending")
      .where((eb) => eb.or([eb("lease_until", "is", null), eb("lease_until", "<=", at)]))
      .returningAll()
      .execute();
    return rows
      .map((row) => ({ ...toEvent(row), attempts: Number(row.attempts) }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async markOutboxDelivered(id: string, now: Date): Promise<void> {
    await this.#db
      .updateTable("events")
      .set({ webhook_state: "delivered", delivered_at: now.getTime(), lease_owner: null, lease_until: null })
      .where("id", "=", id)
      .execute();
  }

  async markOutboxFailed(id: string, failure: { nextAttemptAt: Date; error: string }): Promise<void> {
    await this.#db
      .updateTable("events")
      .set({
        next_attempt_at: failure.nextAttemptAt.getTime(),
        last_error: failure.error.slice(0, MAX_ERROR_LENGTH),
        lease_owner: null,
        lease_until: null,
      })
      .where("id", "=", id)
      .where("webhook_state", "=", "pending")
      .execute();
  }

  // Key rotation --------------------------------------------------------------------------------

  async reencryptAll(): Promise<number> {
    return (await this.#reencryptConnections()) + (await this.#reencryptPending());
  }

  async #reencryptConnections(): Promise<number> {
    let rewritten = 0;
    let after: string | null = null;
    for (;;) {
      let query = this.#db
        .selectFrom("connections")
        .select(["identifier", "access_token_enc", "refresh_token_enc"])
        .orderBy("identifier")
        .limit(REENCRYPT_PAGE);
      if (after !== null) query = query.where("identifier", ">", after);
      const rows = await query.execute();
      for (const row of rows) {
        if (await this.#reencryptConnection(row)) rewritten++;
      }
      if (rows.length < REENCRYPT_PAGE) return rewritten;
      after = rows.at(-1)!.identifier;
    }
  }

  async #reencryptConnection(
    first: Pick<ConnectionRow, "identifier" | "access_token_enc" | "refresh_token_enc">,
  ): Promise<boolean> {
    let row: typeof first | undefined = first;
    // Fenced on the old ciphertexts: a refresh that lands in between wins, and we look again.
    for (let attempt = 0; row && attempt < 5; attempt++) {
      const id: string = row.identifier;
      if (
        !this.#keyring.needsReencryption(row.access_token_enc) &&
        !this.#keyring.needsReencryption(row.refresh_token_enc)
      ) {
        return false;
      }
      const access = tokenContext("access_token", id);
      const refresh = tokenContext("refresh_token", id);
      const result = await this.#db
        .updateTable("connections")
        .set({
          access_token_enc: this.#keyring.encrypt(
            this.#keyring.decrypt(row.access_token_enc, access),
            access,
          ),
          refresh_token_enc: this.#keyring.encrypt(
            this.#keyring.decrypt(row.refresh_token_enc, refresh),
            refresh,
          ),
        })
        .where("identifier", "=", id)
        .where("access_token_enc", "=", row.access_token_enc)
        .where("refresh_token_enc", "=", row.refresh_token_enc)
        .executeTakeFirst();
      if (result.numUpdatedRows === 1n) return true;
      row = await this.#db
        .selectFrom("connections")
        .select(["identifier", "access_token_enc", "refresh_token_enc"])
        .where("identifier", "=", id)
        .executeTakeFirst();
    }
    return false;
  }

  async #reencryptPending(): Promise<number> {
    let rewritten = 0;
    let after: string | null = null;
    for (;;) {
      let query = this.#db
        .selectFrom("pending_authorizations")
        .select(["state_hash", "code_verifier_enc"])
        .orderBy("state_hash")
        .limit(REENCRYPT_PAGE);
      if (after !== null) query = query.where("state_hash", ">", after);
      const rows = await query.execute();
      for (const row of rows) {
        if (!this.#keyring.needsReencryption(row.code_verifier_enc)) continue;
        const context = verifierContext(row.state_hash);
        const result = await this.#db
          .updateTable("pending_authorizations")
          .set({
            code_verifier_enc: this.#keyring.encrypt(
              this.#keyring.decrypt(row.code_verifier_enc, context),
              context,
            ),
          })
          .where("state_hash", "=", row.state_hash)
          .where("code_verifier_enc", "=", row.code_verifier_enc)
          .executeTakeFirst();
        if (result.numUpdatedRows === 1n) rewritten++;
      }
      if (rows.length < REENCRYPT_PAGE) return rewritten;
      after = rows.at(-1)!.state_hash;
    }
  }

  // Helpers -------------------------------------------------------------------------------------

  async #insertEvent(
    trx: Transaction<Database>,
    identifier: string,
    event: NewEvent,
    at: number,
  ): Promise<EventRow> {
    const outbox = this.#webhookEvents?.has(event.type) ?? false;
    const row = {
      id: nextEventId(),
      identifier,
      type: event.type,
      data: JSON.stringify(event.data ?? {}),
      created_at: at,
      webhook_state: outbox ? ("pending" as const) : null,
      attempts: 0,
      next_attempt_at: outbox ? at : null,
      lease_owner: null,
      lease_until: null,
      last_error: null,
      delivered_at: null,
    };
    await trx.insertInto("events").values(row).execute();
    return row;
  }

  #toRecord(row: ConnectionRow): ConnectionRecord {
    return {
      ...toSummary(row),
      accessToken: this.#keyring.decrypt(row.access_token_enc, tokenContext("access_token", row.identifier)),
      refreshToken: this.#keyring.decrypt(
        row.refresh_token_enc,
        tokenContext("refresh_token", row.identifier),
      ),
      leaseOwner: row.lease_owner,
      leaseUntil: toDate(row.lease_until),
      refreshFailures: Number(row.refresh_failures),
      nextRefreshAttemptAt: toDate(row.next_refresh_attempt_at),
    };
  }

  // Health --------------------------------------------------------------------------------------

  /** One committed upsert of the one-row `airlock_health` table (migration 0002). */
  async checkWritable(): Promise<void> {
    await sql`insert into airlock_health (id, checked_at) values (1, ${Date.now()})
      on conflict (id) do update set checked_at = excluded.checked_at`.execute(this.#db);
  }

  // Disconnect and connect attempts -------------------------------------------------------------

  async revokeConnection(
    identifier: string,
    update: { reason: string; now: Date },
    event: NewEvent,
  ): Promise<RevokeOutcome> {
    const at = update.now.getTime();
    const outcome = await this.#db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable("connections")
        .set({
          status: "revoked",
          status_reason: update.reason,
          // The columns stay encrypted and bound to the row, but hold nothing of the old grant.
          access_token_enc: this.#keyring.encrypt(
            REVOKED_PLACEHOLDER,
            tokenContext("access_token", identifier),
          ),
          refresh_token_enc: this.#keyring.encrypt(
            REVOKED_PLACEHOLDER,
            tokenContext("refresh_token", identifier),
          ),
          access_token_expires_at: at,
          refresh_token_expires_at: at,
          updated_at: at,
          // A status change moves the version: leases claimed and tokens cached on the old one are void.
          version: sql<number>`connections.version + 1`,
          ...REFRESH_STATE_RESET,
        })
        .where("identifier", "=", identifier)
        .where("status", "<>", "revoked")
        .returning(["version"])
        .executeTakeFirst();
      if (!row) {
        const exists = await trx
          .selectFrom("connections")
          .select("identifier")
          .where("identifier", "=", identifier)
          .executeTakeFirst();
        return { result: exists ? ("already_revoked" as const) : ("not_found" as const), version: 0 };
      }
      const version = Number(row.version);
      await this.#insertEvent(trx, identifier, event, at);
      await this.#dialect.announceInTransaction(trx, identifier, version);
      return { result: "revoked" as const, version };
    });
    if (outcome.result === "revoked") this.#dialect.announceAfterCommit(identifier, outcome.version);
    return outcome.result;
  }

  async latestConnectAttempt(identifier: string): Promise<ConnectAttempt | null> {
    // Both tables only hold live links and authorizations (purgeExpired), so they stay small.
    const session = await this.#db
      .selectFrom("connect_sessions")
      .select(["created_at", "expires_at", "used_at"])
      .where("identifier", "=", identifier)
      .orderBy("created_at", "desc")
      .limit(1)
      .executeTakeFirst();
    if (!session) return null;
    const pending = await this.#db
      .selectFrom("pending_authorizations")
      .select(["expires_at", "used_at"])
      .where("identifier", "=", identifier)
      .where("created_at", ">=", Number(session.created_at))
      .orderBy("created_at", "desc")
      .limit(1)
      .executeTakeFirst();
    return {
      createdAt: new Date(Number(session.created_at)),
      expiresAt: new Date(Number(session.expires_at)),
      openedAt: toDate(session.used_at),
      authorizationExpiresAt: pending ? new Date(Number(pending.expires_at)) : null,
      returnedAt: pending ? toDate(pending.used_at) : null,
    };
  }

  // Retention -----------------------------------------------------------------------------------

  /**
   * One short DELETE per batch (no long write lock on SQLite, no long row locks on PostgreSQL):
   * old rows that are not pending in the outbox and have a newer event of the same identifier
   * (found through `events_by_identifier`). Ids grow with time, so "newer" is a larger id. Safe
   * while other instances prune too: a row is only deleted while a newer one exists.
   */
  async pruneEvents(options: { before: Date; batchSize?: number }): Promise<number> {
    const cutoff = options.before.getTime();
    const batchSize = Math.max(1, Math.floor(options.batchSize ?? 1000));
    let total = 0;
    for (;;) {
      const batch = this.#db
        .selectFrom("events as old")
        .select("old.id")
        .where("old.created_at", "<", cutoff)
        .where((eb) => eb.or([eb("old.webhook_state", "is", null), eb("old.webhook_state", "!=", "pending")]))
        .where(({ exists, selectFrom }) =>
          exists(
            selectFrom("events as newer")
              .select("newer.id")
              .whereRef("newer.identifier", "=", "old.identifier")
              .whereRef("newer.id", ">", "old.id"),
          ),
        )
        .limit(batchSize);
      const result = await this.#db.deleteFrom("events").where("id", "in", batch).executeTakeFirst();
      const deleted = Number(result.numDeletedRows);
      total += deleted;
      if (deleted < batchSize) return total;
    }
  }

  // Dashboard sessions ------------------------------------------------------------------------

  /** The one row of `dashboard_session_epoch` (migration 0003); 0 before the first sign-out. */
  async getSessionEpoch(): Promise<number> {
    const { rows } = await sql<{ epoch: number | string }>`select epoch from dashboard_session_epoch
      where id = 1`.execute(this.#db);
    return Number(rows[0]?.epoch ?? 0);
  }

  async bumpSessionEpoch(): Promise<number> {
    const { rows } = await sql<{ epoch: number | string }>`insert into dashboard_session_epoch (id, epoch)
      values (1, 1) on conflict (id) do update set epoch = dashboard_session_epoch.epoch + 1
      returning epoch`.execute(this.#db);
    return Number(rows[0]?.epoch ?? 0);
  }
}

/** What a revoked connection's token columns decrypt to: never a usable token. */
const REVOKED_PLACEHOLDER = "revoked";

function toSummary(row: ConnectionRow): ConnectionSummary {
  return {
    identifier: row.identifier,
    status: row.status as ConnectionStatus,
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
  };
}

function toEvent(row: EventRow): EventRecord {
  return {
    id: row.id,
    identifier: row.identifier,
    type: row.type,
    data: JSON.parse(row.data) as Record<string, unknown>,
    createdAt: new Date(Number(row.created_at)),
  };
}

function toDate(value: number | null): Date | null {
  return value === null ? null : new Date(Number(value));
}

function parseList(value: string): string[] {
  const parsed: unknown = JSON.parse(value);
  return Array.isArray(parsed) ? parsed.filter((s): s is string => typeof s === "string") : [];
}

function tokenContext(column: "access_token" | "refresh_token", identifier: string): string {
  return encryptionContext("connections", column, identifier);
}

function verifierContext(stateHash: string): string {
  return encryptionContext("pending_authorizations", "code_verifier", stateHash);
}

let lastEventMs = 0;
let eventCounter = 0;

/**
 * `evt_` + 12 hex digits of milliseconds + a per-process counter + random bits: unique across
 * instances (usable as a webhook-id) and sorting in creation order within a process.
 */
function nextEventId(): string {
  let ms = Math.max(Date.now(), lastEventMs);
  eventCounter = ms === lastEventMs ? eventCounter + 1 : 0;
  if (eventCounter > 0xffff) {
    ms += 1;
    eventCounter = 0;
  }
  lastEventMs = ms;
  return `evt_${ms.toString(16).padStart(12, "0")}${eventCounter.toString(16).padStart(4, "0")}${randomBytes(8).toString("hex")}`;
}

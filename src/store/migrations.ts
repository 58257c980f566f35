/**
 * Schema migrations, as code (no files to ship). Run by Kysely's Migrator, which serialises
 * concurrent runs with an advisory lock on PostgreSQL; on SQLite the store wraps the run in
 * `BEGIN IMMEDIATE` (see sqlite.ts), because Kysely's SQLite adapter only locks within one process.
 */
import { type Kysely, type Migration, type MigrationProvider, sql } from "kysely";

export type SqlKind = "sqlite" | "postgres";

/**
 * The migrations for one dialect, keyed by name (applied in name order).
 */
export function migrationProvider(kind: SqlKind): MigrationProvider {
  return { getMigrations: async () => migrations(kind) };
}

function migrations(kind: SqlKind): Record<string, Migration> {
  // Epoch milliseconds exceed 32 bits: BIGINT on PostgreSQL; SQLite's INTEGER is already 64-bit.
  const int64: Int64 = kind === "postgres" ? "bigint" : "integer";
  return {
    "0001_initial": { up: (db) => initial(db, int64) },
    "0002_airlock_health": { up: (db) => airlockHealth(db, int64) },
    "0003_dashboard_session_epoch": { up: (db) => dashboardSessionEpoch(db) },
    "0004_events_by_age": { up: (db) => eventsByAge(db) },
    "0005_airtable_webhooks": { up: (db) => airtableWebhooks(db, int64) },
    "0006_connection_metadata": { up: (db) => connectionMetadata(db) },
    "0007_api_keys": { up: (db) => apiKeys(db, int64) },
    "0008_expected_email": { up: (db) => expectedEmail(db) },
    "0009_integrations": { up: (db) => integrations(db, kind, int64) },
    "0010_stored_integrations": { up: (db) => storedIntegrations(db, int64) },
  };
}

/** The column type of epoch milliseconds and other 64-bit integers. */
type Int64 = "bigint" | "integer";

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current schema type
type AnyDatabase = Kysely<any>;

// 0001_initial -----------------------------------------------------------------------------------

async function initial(db: AnyDatabase, int64: Int64): Promise<void> {
  await createConnections(db, int64);
  await createConnectSessions(db, int64);
  await createPendingAuthorizations(db, int64);
  await createEvents(db, int64);
}

async function createConnections(db: AnyDatabase, int64: Int64): Promise<void> {
  await db.schema
    .createTable("connections")
    .addColumn("identifier", "text", (c) => c.primaryKey())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("status_reason", "text")
    .addColumn("scopes", "text", (c) => c.notNull())
    .addColumn("airtable_user_id", "text")
    .addColumn("email", "text")
    .addColumn("access_token_enc", "text", (c) => c.notNull())
    .addColumn("refresh_token_enc", "text", (c) => c.notNull())
    .addColumn("access_token_expires_at", int64, (c) => c.notNull())
    .addColumn("refresh_token_expires_at", int64, (c) => c.notNull())
    .addColumn("last_refreshed_at", int64)
    .addColumn("created_at", int64, (c) => c.notNull())
    .addColumn("updated_at", int64, (c) => c.notNull())
    .addColumn("version", int64, (c) => c.notNull())
    .addColumn("lease_owner", "text")
    .addColumn("lease_until", int64)
    .addColumn("lease_takeover", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("refresh_failures", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("next_refresh_attempt_at", int64)
    .execute();
  // The keep-alive due scan: WHERE status = 'active' AND last_refreshed_at < ? ORDER BY last_refreshed_at.
  await db.schema
    .createIndex("connections_keep_alive_due")
    .on("connections")
    .columns(["status", "last_refreshed_at"])
    .execute();
}

async function createConnectSessions(db: AnyDatabase, int64: Int64): Promise<void> {
  await db.schema
    .createTable("connect_sessions")
    .addColumn("token_hash", "text", (c) => c.primaryKey())
    .addColumn("identifier", "text", (c) => c.notNull())
    .addColumn("scopes", "text", (c) => c.notNull())
    .addColumn("return_url", "text")
    .addColumn("expires_at", int64, (c) => c.notNull())
    .addColumn("created_at", int64, (c) => c.notNull())
    .addColumn("used_at", int64)
    .execute();
  await db.schema
    .createIndex("connect_sessions_expires_at")
    .on("connect_sessions")
    .column("expires_at")
    .execute();
}

async function createPendingAuthorizations(db: AnyDatabase, int64: Int64): Promise<void> {
  await db.schema
    .createTable("pending_authorizations")
    .addColumn("state_hash", "text", (c) => c.primaryKey())
    .addColumn("identifier", "text", (c) => c.notNull())
    .addColumn("scopes", "text", (c) => c.notNull())
    .addColumn("return_url", "text")
    .addColumn("code_verifier_enc", "text", (c) => c.notNull())
    .addColumn("browser_binding_hash", "text", (c) => c.notNull())
    .addColumn("expires_at", int64, (c) => c.notNull())
    .addColumn("used_at", int64)
    .addColumn("created_at", int64, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("pending_authorizations_expires_at")
    .on("pending_authorizations")
    .column("expires_at")
    .execute();
}

async function createEvents(db: AnyDatabase, int64: Int64): Promise<void> {
  await db.schema
    .createTable("events")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("identifier", "text", (c) => c.notNull())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("data", "text", (c) => c.notNull())
    .addColumn("created_at", int64, (c) => c.notNull())
    .addColumn("webhook_state", "text")
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("next_attempt_at", int64)
    .addColumn("lease_owner", "text")
    .addColumn("lease_until", int64)
    .addColumn("last_error", "text")
    .addColumn("delivered_at", int64)
    .execute();
  await db.schema.createIndex("events_by_identifier").on("events").columns(["identifier", "id"]).execute();
  // The outbox due scan: WHERE webhook_state = 'pending' AND next_attempt_at <= ?.
  await db.schema
    .createIndex("events_outbox_due")
    .on("events")
    .columns(["webhook_state", "next_attempt_at"])
    .execute();
}

// 0002 to 0004 -----------------------------------------------------------------------------------

/**
 * One row, rewritten by every health check (and by SQLite's migrate()): a real write, which a
 * read-only file, a full disk, a stopped or a read-only PostgreSQL fails.
 */
async function airlockHealth(db: AnyDatabase, int64: Int64): Promise<void> {
  await db.schema
    .createTable("airlock_health")
    .addColumn("id", "integer", (c) => c.primaryKey())
    .addColumn("checked_at", int64, (c) => c.notNull())
    .execute();
}

/** One row: dashboard sessions signed in under an older epoch are refused; sign-out moves it on. */
async function dashboardSessionEpoch(db: AnyDatabase): Promise<void> {
  await db.schema
    .createTable("dashboard_session_epoch")
    .addColumn("id", "integer", (c) => c.primaryKey())
    .addColumn("epoch", "integer", (c) => c.notNull())
    .execute();
}

/** The retention scan (WHERE created_at < cutoff, oldest first) reads an index, not the table. */
async function eventsByAge(db: AnyDatabase): Promise<void> {
  await db.schema.createIndex("events_by_age").on("events").columns(["created_at"]).execute();
}

// 0005 -------------------------------------------------------------------------------------------

/**
 * Airtable webhooks an app asked Airlock to keep (server/airtable-webhooks/), and ordered outbox
 * delivery: an event with an `ordering_key` waits until every pending event with the same key and
 * a smaller `ordering_seq` is delivered (a webhook's payload pages arrive in cursor order).
 */
async function airtableWebhooks(db: AnyDatabase, int64: Int64): Promise<void> {
  await db.schema
    .createTable("airtable_webhooks")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("identifier", "text", (c) => c.notNull())
    .addColumn("base_id", "text", (c) => c.notNull())
    .addColumn("airtable_webhook_id", "text")
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("specification", "text", (c) => c.notNull())
    .addColumn("notification_url", "text", (c) => c.notNull())
    .addColumn("mac_secret_enc", "text")
    .addColumn("expiration_time", int64)
    .addColumn("cursor", int64, (c) => c.notNull().defaultTo(1))
    .addColumn("pings", int64, (c) => c.notNull().defaultTo(0))
    .addColumn("fetched_pings", int64, (c) => c.notNull().defaultTo(0))
    .addColumn("last_ping_at", int64)
    .addColumn("last_fetch_at", int64)
    .addColumn("last_refreshed_at", int64)
    .addColumn("lease_owner", "text")
    .addColumn("lease_until", int64)
    .addColumn("next_attempt_at", int64)
    .addColumn("failures", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("last_error", "text")
    .addColumn("created_at", int64, (c) => c.notNull())
    .addColumn("updated_at", int64, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("airtable_webhooks_by_identifier")
    .on("airtable_webhooks")
    .columns(["identifier", "created_at"])
    .execute();
  await db.schema.alterTable("events").addColumn("ordering_key", "text").execute();
  await db.schema.alterTable("events").addColumn("ordering_seq", int64).execute();
  await db.schema
    .createIndex("events_by_ordering_key")
    .on("events")
    .columns(["ordering_key", "ordering_seq"])
    .execute();
}

// 0006 and 0007 -----------------------------------------------------------------------------------

/**
 * The app's JSON metadata on a connection (null: none), carried from the connect session through
 * the pending authorization to the connection the callback creates.
 */
async function connectionMetadata(db: AnyDatabase): Promise<void> {
  for (const table of ["connections", "connect_sessions", "pending_authorizations"]) {
    await db.schema.alterTable(table).addColumn("metadata", "text").execute();
  }
}

/**
 * Named API keys besides AIRLOCK_SECRET_KEY, stored as SHA-256 hashes, each with a scope
 * (admin, connect, proxy); a revoked key keeps its row (and its name) for the record.
 */
async function apiKeys(db: AnyDatabase, int64: Int64): Promise<void> {
  await db.schema
    .createTable("api_keys")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("scope", "text", (c) => c.notNull())
    .addColumn("key_hash", "text", (c) => c.notNull().unique())
    .addColumn("created_at", int64, (c) => c.notNull())
    .addColumn("last_used_at", int64)
    .addColumn("revoked_at", int64)
    .execute();
}

// 0008 -------------------------------------------------------------------------------------------

/**
 * The Airtable account a connect session expects (an email, lower case; null: any), carried from
 * the connect session to the pending authorization the callback checks it against.
 */
async function expectedEmail(db: AnyDatabase): Promise<void> {
  for (const table of ["connect_sessions", "pending_authorizations"]) {
    await db.schema.alterTable(table).addColumn("expected_email", "text").execute();
  }
}

// 0009 -------------------------------------------------------------------------------------------

/** The integration every row made before 0009 belongs to: the one `AIRTABLE_*` configures. */
const DEFAULT_INTEGRATION_ID = "default";

/**
 * Several Airtable OAuth integrations in one deployment: a connection is keyed by (integration,
 * identifier), and the rows that lead to one or hang off one say which integration they are for.
 * Every existing row becomes the default integration's.
 */
async function integrations(db: AnyDatabase, kind: SqlKind, int64: Int64): Promise<void> {
  for (const table of ["connect_sessions", "pending_authorizations", "events", "airtable_webhooks"]) {
    await db.schema
      .alterTable(table)
      .addColumn("integration_id", "text", (c) => c.notNull().defaultTo(DEFAULT_INTEGRATION_ID))
      .execute();
  }
  if (kind === "postgres") {
    await sql`ALTER TABLE connections ADD COLUMN integration_id text NOT NULL DEFAULT 'default'`.execute(db);
    await sql`ALTER TABLE connections DROP CONSTRAINT connections_pkey`.execute(db);
    await sql`ALTER TABLE connections ADD PRIMARY KEY (integration_id, identifier)`.execute(db);
  } else {
    await rebuildSqliteConnections(db, int64);
  }
  // The keep-alive scan is per integration now. (History and webhook lookups keep their
  // identifier-first indexes: integration_id is then a filter on a handful of rows.)
  await db.schema.dropIndex("connections_keep_alive_due").ifExists().execute();
  await db.schema
    .createIndex("connections_keep_alive_due")
    .on("connections")
    .columns(["integration_id", "status", "last_refreshed_at"])
    .execute();
}

/** SQLite cannot change a primary key in place: a new table, the rows copied, the old one dropped. */
async function rebuildSqliteConnections(db: AnyDatabase, int64: Int64): Promise<void> {
  const columns = [
    "identifier",
    "status",
    "status_reason",
    "scopes",
    "airtable_user_id",
    "email",
    "access_token_enc",
    "refresh_token_enc",
    "access_token_expires_at",
    "refresh_token_expires_at",
    "last_refreshed_at",
    "created_at",
    "updated_at",
    "version",
    "lease_owner",
    "lease_until",
    "lease_takeover",
    "refresh_failures",
    "next_refresh_attempt_at",
    "metadata",
  ];
  await db.schema
    .createTable("connections_0009")
    .addColumn("integration_id", "text", (c) => c.notNull().defaultTo(DEFAULT_INTEGRATION_ID))
    .addColumn("identifier", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("status_reason", "text")
    .addColumn("scopes", "text", (c) => c.notNull())
    .addColumn("airtable_user_id", "text")
    .addColumn("email", "text")
    .addColumn("access_token_enc", "text", (c) => c.notNull())
    .addColumn("refresh_token_enc", "text", (c) => c.notNull())
    .addColumn("access_token_expires_at", int64, (c) => c.notNull())
    .addColumn("refresh_token_expires_at", int64, (c) => c.notNull())
    .addColumn("last_refreshed_at", int64)
    .addColumn("created_at", int64, (c) => c.notNull())
    .addColumn("updated_at", int64, (c) => c.notNull())
    .addColumn("version", int64, (c) => c.notNull())
    .addColumn("lease_owner", "text")
    .addColumn("lease_until", int64)
    .addColumn("lease_takeover", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("refresh_failures", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("next_refresh_attempt_at", int64)
    .addColumn("metadata", "text")
    .addPrimaryKeyConstraint("connections_0009_pkey", ["integration_id", "identifier"])
    .execute();
  const list = sql.join(columns.map((column) => sql.ref(column)));
  await sql`INSERT INTO connections_0009 (${list}) SELECT ${list} FROM connections`.execute(db);
  await db.schema.dropTable("connections").execute();
  await sql`ALTER TABLE connections_0009 RENAME TO connections`.execute(db);
}

// 0010 -------------------------------------------------------------------------------------------

/** Integrations created through `POST /v1/integrations`, read by every instance. */
async function storedIntegrations(db: AnyDatabase, int64: Int64): Promise<void> {
  await db.schema
    .createTable("integrations")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("client_id", "text", (c) => c.notNull().unique())
    .addColumn("client_secret_enc", "text")
    .addColumn("scopes", "text", (c) => c.notNull())
    .addColumn("created_at", int64, (c) => c.notNull())
    .execute();
}

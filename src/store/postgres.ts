/**
 * The shared store: PostgreSQL through pg's Pool. Tables live in one schema (default `public`,
 * `?schema=name` in the URL or the `schema` option to choose); every connection change sends a
 * NOTIFY inside its transaction, and a dedicated LISTEN connection (reconnected when it drops)
 * turns those into `onConnectionChanged` calls in every instance.
 */
import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { AirlockError, errorCode } from "../shared/errors.js";
import { type Logger, silentLogger } from "../shared/log.js";
import { ChangeFeed } from "./change-feed.js";
import { type StoreFailureListener, storeFailure } from "./failures.js";
import type { Database } from "./schema.js";
import type { SqlDialect } from "./sql/dialect.js";
import { SqlStore, type SqlStoreOptions } from "./sql-store.js";
import { translatingDialect } from "./translating-driver.js";

const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5000;
/** How long to wait for a connection (new or from the pool) before the operation fails as transient. */
const CONNECT_TIMEOUT_MS = 5_000;

export interface PostgresStoreOptions extends SqlStoreOptions {
  /** The schema holding Airlock's tables; overrides `?schema=` in the URL. Default `public`. */
  schema?: string | undefined;
  /** Pool size per instance (default 10). */
  poolSize?: number | undefined;
  /** Told about every driver error translated into a `transient` store failure (metrics). */
  onFailure?: StoreFailureListener | undefined;
}

/**
 * Opens a PostgreSQL store. Call `migrate()` before use (safe from several instances at once:
 * Kysely's Migrator holds a PostgreSQL advisory lock while it applies migrations).
 *
 * @example
 * const store = openPostgresStore("postgres://airlock@db/airlock?schema=airlock", { keyring });
 * await store.migrate();
 */
export function openPostgresStore(databaseUrl: string, options: PostgresStoreOptions): SqlStore {
  const log = options.logger ?? silentLogger;
  const { connectionString, schema } = resolveSchema(databaseUrl, options.schema);
  const config = clientConfig(connectionString, schema);
  const location = describeServer(connectionString);
  const db = openDatabase(openPool(config, options.poolSize, log), location, log, options.onFailure);
  const channel = `airlock_connections:${schema}`;
  const listener = new NotificationListener(
    { ...config, application_name: `airlock-listener:${schema}`.slice(0, 63) },
    channel,
    log,
  );
  return new SqlStore(db, postgresDialect(db, { schema, channel, location, listener }), options);
}

/** The URL without Airlock's `schema` parameter, and the schema: the option, else `?schema=`, else `public`. */
function resolveSchema(
  databaseUrl: string,
  override: string | undefined,
): { connectionString: string; schema: string } {
  const { connectionString, schema: urlSchema } = splitSchema(databaseUrl);
  const schema = override ?? urlSchema ?? "public";
  if (!SCHEMA_PATTERN.test(schema)) {
    throw new AirlockError("config_invalid", `The PostgreSQL schema name "${schema}" is not allowed.`, {
      hint: "Use lower-case letters, digits and underscores, starting with a letter (e.g. ?schema=airlock).",
    });
  }
  return { connectionString, schema };
}

/** Settings shared by the pool's clients and the LISTEN connection. */
function clientConfig(connectionString: string, schema: string): pg.ClientConfig {
  return {
    connectionString,
    // Unqualified table names resolve to our schema on every pooled connection.
    options: `-c search_path=${schema}`,
    // BIGINT (epoch milliseconds, counts) as a JS number: every value we store is below 2^53.
    types: {
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        oid === pg.types.builtins.INT8
          ? (value: string) => Number(value)
          : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
    },
  };
}

function openPool(config: pg.ClientConfig, poolSize: number | undefined, log: Logger): pg.Pool {
  const pool = new pg.Pool({
    ...config,
    max: poolSize ?? 10,
    application_name: "airlock",
    // A black-holed server (or an exhausted pool) answers `transient` instead of hanging a request.
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  // An idle client's error (server restart, network blip) must not crash the process; the pool replaces it.
  pool.on("error", (err) => log.warn({ err: errorSummary(err) }, "postgres pool client error"));
  // A checked-out client whose socket dies also emits "error", and pg-pool listens only on idle
  // ones: unheard, that is an uncaught exception, a crash in the middle of an outage. The query in
  // flight is rejected anyway (and translated), and the pool discards the broken client on release.
  pool.on("connect", (client) => {
    client.on("error", (err) => log.debug({ err: errorSummary(err) }, "postgres client error while in use"));
  });
  return pool;
}

/** Kysely over the pool, with every driver error an outage means translated into `transient`. */
function openDatabase(
  pool: pg.Pool,
  location: string,
  log: Logger,
  onFailure: StoreFailureListener | undefined,
): Kysely<Database> {
  // Every query, transaction step and connection attempt: an outage becomes `transient`, not `internal`.
  const dialect = translatingDialect(new PostgresDialect({ pool }), {
    recognise: (error) => storeFailure(error, { kind: "postgres", location }),
    onFailure(failure) {
      log.warn({ err: failure.cause, store_error: failure.details?.store_error }, failure.message);
      onFailure?.(failure, "postgres");
    },
  });
  return new Kysely<Database>({ dialect });
}

/** What PostgreSQL does its own way: a reachability check before migrating, NOTIFY, SKIP LOCKED. */
function postgresDialect(
  db: Kysely<Database>,
  where: { schema: string; channel: string; location: string; listener: NotificationListener },
): SqlDialect {
  const { schema, channel, location, listener } = where;
  return {
    kind: "postgres",
    migrationTableSchema: schema,
    async guardMigration(migrate) {
      await checkReachable(db, location);
      // Kysely's Migrator serialises concurrent runs with a PostgreSQL advisory lock.
      await migrate();
    },
    async announceInTransaction(trx, identifier, version) {
      // Delivered on commit only, so listeners never hear about a change that rolled back.
      await sql`select pg_notify(${channel}, ${`${version}:${identifier}`})`.execute(trx);
    },
    announceAfterCommit() {},
    subscribe: (callback) => listener.subscribe(callback),
    lockOutboxCandidates: (query) => query.forUpdate().skipLocked(),
    ready: () => listener.ready(),
    async close() {
      await listener.close();
      await db.destroy();
    },
  };
}

/** `config_invalid` naming the driver's own error when the server cannot be reached (startup). */
async function checkReachable(db: Kysely<Database>, location: string): Promise<void> {
  try {
    await sql`select 1`.execute(db);
  } catch (caught) {
    // Name the driver's own error (ECONNREFUSED, 28P01...), not the `transient` it became.
    const cause = caught instanceof AirlockError && caught.cause !== undefined ? caught.cause : caught;
    const { message, code } = errorSummary(cause);
    throw new AirlockError(
      "config_invalid",
      `Cannot connect to PostgreSQL at ${location}: ${code ?? message}.`,
      {
        hint: "Check DATABASE_URL (host, port, user, password, database) and that the server is running and reachable.",
        cause,
      },
    );
  }
}

/**
 * Keeps one LISTEN connection open while anyone subscribes, and reconnects it with backoff when it
 * drops. Notifications sent while it was down are lost; consumers must also poll (TokenManager does).
 */
class NotificationListener {
  readonly #config: pg.ClientConfig;
  readonly #channel: string;
  readonly #log: Logger;
  readonly #feed: ChangeFeed;
  #client: pg.Client | null = null;
  #connecting: Promise<void> | null = null;
  #retryMs = RECONNECT_MIN_MS;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(config: pg.ClientConfig, channel: string, log: Logger) {
    this.#config = config;
    this.#channel = channel;
    this.#log = log;
    this.#feed = new ChangeFeed(log);
  }

  subscribe(listener: (identifier: string, version: number) => void): () => void {
    const unsubscribe = this.#feed.subscribe(listener);
    if (!this.#client && !this.#connecting && !this.#timer && !this.#closed) this.#connect();
    return unsubscribe;
  }

  /** Resolves once a LISTEN connection is up (tests; startup code that wants to be sure). */
  async ready(): Promise<void> {
    if (!this.#client && !this.#connecting && !this.#timer && !this.#closed) this.#connect();
    while (!this.#client && !this.#closed) {
      await (this.#connecting ?? new Promise((resolve) => setTimeout(resolve, 20)));
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#connecting;
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => {});
  }

  #connect(): void {
    const client = new pg.Client(this.#config);
    let dropped = false;
    const drop = (err?: unknown) => {
      if (dropped) return;
      dropped = true;
      if (this.#client === client) this.#client = null;
      client.end().catch(() => {});
      if (this.#closed) return;
      this.#log.warn(
        { err: err ? errorSummary(err) : undefined, retryMs: this.#retryMs },
        "postgres LISTEN connection lost; reconnecting",
      );
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#connect();
      }, this.#retryMs);
      this.#timer.unref();
      this.#retryMs = Math.min(this.#retryMs * 2, RECONNECT_MAX_MS);
    };
    client.on("error", drop);
    client.on("end", () => drop());
    client.on("notification", (message) => {
      if (message.channel !== this.#channel || !message.payload) return;
      const colon = message.payload.indexOf(":");
      const version = Number(message.payload.slice(0, colon));
      if (colon > 0 && Number.isInteger(version)) this.#feed.emit(message.payload.slice(colon + 1), version);
    });
    this.#connecting = (async () => {
      try {
        await client.connect();
        await client.query(`LISTEN "${this.#channel.replaceAll('"', '""')}"`);
        if (this.#closed || dropped) {
          await client.end().catch(() => {});
          return;
        }
        this.#client = client;
        this.#retryMs = RECONNECT_MIN_MS;
        this.#log.debug({ channel: this.#channel }, "listening for connection changes");
      } catch (err) {
        drop(err);
      } finally {
        this.#connecting = null;
      }
    })();
  }
}

/** Takes Airlock's own `schema` parameter out of the URL before pg parses the rest. */
function splitSchema(databaseUrl: string): { connectionString: string; schema: string | undefined } {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw malformed();
  }
  if (!url.hostname && !url.searchParams.has("host")) throw malformed();
  const schema = url.searchParams.get("schema") ?? undefined;
  url.searchParams.delete("schema");
  return { connectionString: url.toString(), schema };
}

/** host:port/database, never the user name or password. */
function describeServer(connectionString: string): string {
  const url = new URL(connectionString);
  return `${url.hostname || url.searchParams.get("host") || "localhost"}:${url.port || "5432"}${url.pathname}`;
}

function malformed(): AirlockError {
  // Never echo the URL: it usually carries a password.
  return new AirlockError("config_invalid", "DATABASE_URL is not a valid PostgreSQL URL.", {
    hint: "Use postgres://USER:PASSWORD@HOST:PORT/DATABASE (URL-encode special characters in the password), or a SQLite file path.",
  });
}

function errorSummary(err: unknown): { message: string; code?: string } {
  if (err instanceof Error) {
    const code = errorCode(err);
    return { message: err.message, ...(code !== undefined ? { code } : {}) };
  }
  return { message: String(err) };
}

/**
 * A Kysely dialect wrapper that translates driver errors in one place, below every store method:
 * queries, streams, BEGIN/COMMIT/ROLLBACK, savepoints and acquiring a connection. Errors the
 * `recognise` function knows become its AirlockError (the original as `cause`); everything else
 * passes through untouched.
 */
import type {
  CompiledQuery,
  DatabaseConnection,
  DatabaseIntrospector,
  Dialect,
  DialectAdapter,
  Driver,
  Kysely,
  QueryCompiler,
  QueryResult,
  TransactionSettings,
} from "kysely";
import type { AirlockError } from "../shared/errors.js";

export interface ErrorTranslation {
  /** The error callers should see instead of `error`, or null to keep `error`. */
  recognise(error: unknown): AirlockError | null;
  /** Told once per translated error. */
  onFailure(failure: AirlockError): void;
}

/**
 * Wraps `dialect` so that its driver's errors go through `translation`.
 */
export function translatingDialect(dialect: Dialect, translation: ErrorTranslation): Dialect {
  return {
    createDriver: () => new TranslatingDriver(dialect.createDriver(), translation),
    createQueryCompiler: (): QueryCompiler => dialect.createQueryCompiler(),
    createAdapter: (): DialectAdapter => dialect.createAdapter(),
    // biome-ignore lint/suspicious/noExplicitAny: Kysely's Dialect interface declares Kysely<any>
    createIntrospector: (db: Kysely<any>): DatabaseIntrospector => dialect.createIntrospector(db),
  };
}

class TranslatingConnection implements DatabaseConnection {
  readonly inner: DatabaseConnection;
  readonly #fail: (error: unknown) => unknown;
  /** Set when a statement on this connection failed with a translated error (see rollback). */
  failed = false;

  constructor(inner: DatabaseConnection, fail: (error: unknown) => unknown) {
    this.inner = inner;
    this.#fail = fail;
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    try {
      return await this.inner.executeQuery<R>(compiledQuery);
    } catch (error) {
      throw this.#failed(error);
    }
  }

  async *streamQuery<R>(
    compiledQuery: CompiledQuery,
    chunkSize?: number,
  ): AsyncIterableIterator<QueryResult<R>> {
    try {
      yield* this.inner.streamQuery<R>(compiledQuery, chunkSize);
    } catch (error) {
      throw this.#failed(error);
    }
  }

  #failed(error: unknown): unknown {
    const translated = this.#fail(error);
    if (translated !== error) this.failed = true;
    return translated;
  }
}

class TranslatingDriver implements Driver {
  readonly #inner: Driver;
  readonly #translation: ErrorTranslation;
  readonly #connections = new WeakMap<DatabaseConnection, TranslatingConnection>();

  constructor(inner: Driver, translation: ErrorTranslation) {
    this.#inner = inner;
    this.#translation = translation;
  }

  /** The error to throw instead of `error` (reported once when translated). */
  readonly #fail = (error: unknown): unknown => {
    const failure = this.#translation.recognise(error);
    if (!failure) return error;
    this.#translation.onFailure(failure);
    return failure;
  };

  /** Runs a driver step; a translated failure also marks the connection's transaction as failed. */
  async #run<T>(step: () => Promise<T>, connection?: DatabaseConnection): Promise<T> {
    try {
      return await step();
    } catch (error) {
      const translated = this.#fail(error);
      if (translated !== error && connection instanceof TranslatingConnection) connection.failed = true;
      throw translated;
    }
  }

  init(): Promise<void> {
    return this.#run(() => this.#inner.init());
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const inner = await this.#run(() => this.#inner.acquireConnection());
    let connection = this.#connections.get(inner);
    if (!connection) {
      connection = new TranslatingConnection(inner, this.#fail);
      this.#connections.set(inner, connection);
    }
    connection.failed = false;
    return connection;
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.#run(() => this.#inner.beginTransaction(unwrap(connection), settings), connection);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#run(() => this.#inner.commitTransaction(unwrap(connection)), connection);
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await this.#inner.rollbackTransaction(unwrap(connection));
    } catch (error) {
      // Kysely rolls back after a failed transaction and throws what ROLLBACK threw, hiding the
      // first error. When the database already failed this transaction (the connection is gone),
      // a failing ROLLBACK says nothing new: let the first error through. (pg discards a broken
      // client on release, so nothing reuses the connection.)
      const alreadyFailed = connection instanceof TranslatingConnection && connection.failed;
      if (alreadyFailed && this.#translation.recognise(error)) return;
      throw this.#fail(error);
    }
  }

  savepoint(
    connection: DatabaseConnection,
    savepointName: string,
    compileQuery: QueryCompiler["compileQuery"],
  ): Promise<void> {
    const savepoint = supported(this.#inner.savepoint, "savepoint").bind(this.#inner);
    return this.#run(() => savepoint(unwrap(connection), savepointName, compileQuery), connection);
  }

  rollbackToSavepoint(
    connection: DatabaseConnection,
    savepointName: string,
    compileQuery: QueryCompiler["compileQuery"],
  ): Promise<void> {
    const rollback = supported(this.#inner.rollbackToSavepoint, "rollbackToSavepoint").bind(this.#inner);
    return this.#run(() => rollback(unwrap(connection), savepointName, compileQuery), connection);
  }

  releaseSavepoint(
    connection: DatabaseConnection,
    savepointName: string,
    compileQuery: QueryCompiler["compileQuery"],
  ): Promise<void> {
    const release = supported(this.#inner.releaseSavepoint, "releaseSavepoint").bind(this.#inner);
    return this.#run(() => release(unwrap(connection), savepointName, compileQuery), connection);
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.#inner.releaseConnection(unwrap(connection));
  }

  destroy(): Promise<void> {
    return this.#inner.destroy();
  }
}

function supported<F>(method: F | undefined, name: string): F {
  if (method === undefined) throw new Error(`The \`${name}\` method is not supported by this driver`);
  return method;
}

/** Drivers hand their own connection objects back to themselves (pg releases through a private symbol). */
function unwrap(connection: DatabaseConnection): DatabaseConnection {
  return connection instanceof TranslatingConnection ? connection.inner : connection;
}

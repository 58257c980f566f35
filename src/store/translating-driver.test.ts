import {
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  Kysely,
  type QueryResult,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  sql,
} from "kysely";
import { describe, expect, it } from "vitest";
import { type AirlockError, isAirlockError } from "../shared/errors.js";
import { storeFailure } from "./failures.js";
import { translatingDialect } from "./translating-driver.js";

/** A scripted driver: each SQL text either answers or throws the error given for it. */
class ScriptedDriver implements Driver {
  readonly failures = new Map<string, unknown>();
  readonly log: string[] = [];
  acquireError: unknown = null;
  readonly #connection: DatabaseConnection;

  constructor() {
    const run = (query: CompiledQuery) => {
      this.log.push(query.sql);
      const failure = this.failures.get(query.sql);
      if (failure !== undefined) throw failure;
    };
    this.#connection = {
      async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
        run(query);
        return { rows: [] };
      },
      async *streamQuery<R>(query: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
        yield { rows: [] };
        run(query);
      },
    };
  }

  async init(): Promise<void> {}
  async acquireConnection(): Promise<DatabaseConnection> {
    if (this.acquireError !== null) throw this.acquireError;
    return this.#connection;
  }
  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(raw("begin"));
  }
  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    // The real drivers call executeQuery on the connection they handed out: it must be theirs.
    if (connection !== this.#connection) throw new Error("not my connection");
    await connection.executeQuery(raw("commit"));
  }
  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    if (connection !== this.#connection) throw new Error("not my connection");
    await connection.executeQuery(raw("rollback"));
  }
  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    if (connection !== this.#connection) throw new Error("not my connection");
  }
  async destroy(): Promise<void> {}
}

function raw(text: string): CompiledQuery {
  return { sql: text, parameters: [], query: { kind: "RawNode" } } as unknown as CompiledQuery;
}

function setup() {
  const driver = new ScriptedDriver();
  const reported: AirlockError[] = [];
  const inner: Dialect = {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => driver,
    createIntrospector: (db) => new SqliteIntrospector(db),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  };
  const db = new Kysely<Record<string, never>>({
    dialect: translatingDialect(inner, {
      recognise: (error) => storeFailure(error, { kind: "postgres", location: "db:5432/x" }),
      onFailure: (failure) => reported.push(failure),
    }),
  });
  return { db, driver, reported };
}

const connectionError = (code: string) => Object.assign(new Error(`${code} from the socket`), { code });
const broken = () => new Error("Client has encountered a connection error and is not queryable");

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => error,
  );
}

describe("translatingDialect", () => {
  it("translates a failing query, keeping the driver's error as the cause", async () => {
    const { db, driver, reported } = setup();
    const original = connectionError("ECONNRESET");
    driver.failures.set("select 1", original);
    const error = await rejection(sql`select 1`.execute(db));
    expect(isAirlockError(error, "transient")).toBe(true);
    expect((error as AirlockError).details?.store_error).toBe("ECONNRESET");
    expect((error as AirlockError).cause).toBe(original);
    expect(reported).toHaveLength(1);
  });

  it("passes errors it does not recognise through untouched, unreported", async () => {
    const { db, driver, reported } = setup();
    const original = Object.assign(new Error("duplicate key"), { code: "23505" });
    driver.failures.set("select 1", original);
    expect(await rejection(sql`select 1`.execute(db))).toBe(original);
    expect(reported).toEqual([]);
  });

  it("translates a connection that cannot be acquired (PostgreSQL down)", async () => {
    const { db, driver, reported } = setup();
    driver.acquireError = connectionError("ECONNREFUSED");
    const error = await rejection(sql`select 1`.execute(db));
    expect((error as AirlockError).details?.store_error).toBe("ECONNREFUSED");
    expect(reported).toHaveLength(1);
  });

  it("a transaction whose connection died surfaces the first error, not the failed ROLLBACK", async () => {
    const { db, driver, reported } = setup();
    driver.failures.set("update t", connectionError("ECONNRESET"));
    driver.failures.set("rollback", broken());
    const error = await rejection(
      db.transaction().execute(async (trx) => {
        await sql`update t`.execute(trx);
      }),
    );
    expect((error as AirlockError).details?.store_error).toBe("ECONNRESET");
    expect(driver.log).toEqual(["begin", "update t", "rollback"]);
    expect(reported).toHaveLength(1);
  });

  it("a failing COMMIT is translated, and its failed ROLLBACK does not hide it", async () => {
    const { db, driver, reported } = setup();
    driver.failures.set("commit", connectionError("EPIPE"));
    driver.failures.set("rollback", broken());
    const error = await rejection(db.transaction().execute(async (trx) => sql`update t`.execute(trx)));
    expect((error as AirlockError).details?.store_error).toBe("EPIPE");
    expect(reported).toHaveLength(1);
  });

  it("a ROLLBACK failing after an ordinary error is still reported (nothing to hide behind)", async () => {
    const { db, driver, reported } = setup();
    driver.failures.set("update t", new Error("syntax error"));
    driver.failures.set("rollback", broken());
    const error = await rejection(db.transaction().execute(async (trx) => sql`update t`.execute(trx)));
    expect((error as AirlockError).details?.store_error).toBe("PG_CONNECTION_BROKEN");
    expect(reported).toHaveLength(1);
  });

  it("translates errors raised while streaming", async () => {
    const { db, driver } = setup();
    driver.failures.set(`select * from "t"`, connectionError("ECONNRESET"));
    const error = await rejection(
      (async () => {
        for await (const _row of db
          .selectFrom("t" as never)
          .selectAll()
          .stream()) {
          // the first chunk arrives, then the socket dies
        }
      })(),
    );
    expect((error as AirlockError).details?.store_error).toBe("ECONNRESET");
  });
});

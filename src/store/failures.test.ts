import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { describeWithPostgres, TEST_DATABASE_URL } from "../../test/support/postgres.js";
import { AirlockError } from "../shared/errors.js";
import { storeFailure } from "./failures.js";

/** Runs `fn` and returns what it threw. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

async function rejected(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => error,
  );
}

function sqlstate(code: string, message: string): pg.DatabaseError {
  const error = new pg.DatabaseError(message, message.length, "error");
  error.code = code;
  error.severity = "FATAL";
  return error;
}

function errno(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${message}`), { code, errno: -1, syscall: "write" });
}

const dir = mkdtempSync(join(tmpdir(), "airlock-failures-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("storeFailure: SQLite", () => {
  it("a full database (max_page_count reached) is transient, with the file in the hint", () => {
    const db = new BetterSqlite3(":memory:");
    db.exec("create table t (v blob)");
    db.pragma(`max_page_count = ${db.pragma("page_count", { simple: true })}`);
    const error = thrown(() => db.prepare("insert into t values (randomblob(10000))").run());
    expect((error as { code?: string }).code).toBe("SQLITE_FULL");

    const failure = storeFailure(error, { kind: "sqlite", location: "/data/airlock.db" });
    expect(failure).toBeInstanceOf(AirlockError);
    expect(failure?.code).toBe("transient");
    expect(failure?.retryable).toBe(true);
    expect(failure?.message).toBe("The database is unavailable (disk full).");
    expect(failure?.hint).toContain("Free space on the volume holding the SQLite file /data/airlock.db");
    expect(failure?.details).toEqual({ retry_after_seconds: 30, store_error: "SQLITE_FULL" });
    expect(failure?.cause).toBe(error);
    db.close();
  });

  it("a write lock held by another connection (SQLITE_BUSY) is transient and retried soon", () => {
    const file = join(dir, "busy.db");
    const holder = new BetterSqlite3(file);
    holder.exec("create table t (v)");
    const other = new BetterSqlite3(file, { timeout: 0 });
    holder.exec("begin immediate");
    const error = thrown(() => other.prepare("insert into t values (1)").run());
    holder.exec("rollback");
    expect((error as { code?: string }).code).toBe("SQLITE_BUSY");
    const failure = storeFailure(error);
    expect(failure?.details).toEqual({ retry_after_seconds: 1, store_error: "SQLITE_BUSY" });
    expect(failure?.message).toBe("The database is unavailable (the database is locked by another process).");
    holder.close();
    other.close();
  });

  it("a read-only connection's write (SQLITE_READONLY) is transient", () => {
    const file = join(dir, "ro.db");
    new BetterSqlite3(file).exec("create table t (v)");
    const db = new BetterSqlite3(file, { readonly: true });
    const error = thrown(() => db.prepare("insert into t values (1)").run());
    expect((error as { code?: string }).code).toBe("SQLITE_READONLY");
    expect(storeFailure(error)?.details).toMatchObject({ store_error: "SQLITE_READONLY" });
    expect(storeFailure(error)?.hint).toContain("writable");
    db.close();
  });

  it("a file SQLite cannot open (SQLITE_CANTOPEN) is transient", () => {
    const db = new BetterSqlite3(":memory:");
    const error = thrown(() => db.exec(`attach '${join(dir, "missing", "x.db")}' as x`));
    expect((error as { code?: string }).code).toBe("SQLITE_CANTOPEN");
    expect(storeFailure(error)?.details).toMatchObject({ store_error: "SQLITE_CANTOPEN" });
    db.close();
  });

  it("extended codes keep their full name: SQLITE_IOERR_*, SQLITE_LOCKED_*, SQLITE_BUSY_*, SQLITE_READONLY_*", () => {
    for (const code of [
      "SQLITE_IOERR_WRITE",
      "SQLITE_IOERR_FSYNC",
      "SQLITE_LOCKED_SHAREDCACHE",
      "SQLITE_BUSY_SNAPSHOT",
      "SQLITE_READONLY_DBMOVED",
      "SQLITE_CANTOPEN_ISDIR",
    ]) {
      const failure = storeFailure(new BetterSqlite3.SqliteError("disk trouble", code));
      expect(failure?.code, code).toBe("transient");
      expect(failure?.details?.store_error).toBe(code);
    }
    expect(storeFailure(new BetterSqlite3.SqliteError("disk I/O error", "SQLITE_IOERR"))?.message).toBe(
      "The database is unavailable (disk I/O error).",
    );
  });

  it("file system errors: ENOSPC, EROFS, EIO", () => {
    expect(storeFailure(errno("ENOSPC", "no space left on device"))?.message).toContain("disk full");
    expect(storeFailure(errno("EROFS", "read-only file system"))?.message).toContain("read-only");
    expect(storeFailure(errno("EIO", "i/o error"))?.message).toContain("I/O error");
  });
});

describe("storeFailure: PostgreSQL", () => {
  it("a refused connection (a real pg client to a closed port) is transient, naming the server", async () => {
    const client = new pg.Client({ connectionString: "postgres://airlock:hunter2@127.0.0.1:1/airlock" });
    const error = await rejected(client.connect());
    expect((error as { code?: string }).code).toBe("ECONNREFUSED");
    const failure = storeFailure(error, { kind: "postgres", location: "127.0.0.1:1/airlock" });
    expect(failure?.code).toBe("transient");
    expect(failure?.message).toBe("The database is unavailable (cannot reach PostgreSQL).");
    expect(failure?.hint).toBe(
      "Check that PostgreSQL at 127.0.0.1:1/airlock (DATABASE_URL) is running and reachable; Airlock keeps rotated tokens in memory meanwhile and retries.",
    );
    expect(failure?.details).toEqual({ retry_after_seconds: 5, store_error: "ECONNREFUSED" });
    expect(JSON.stringify(failure?.toJSON())).not.toContain("hunter2");
  });

  it("socket and DNS errors, also inside an AggregateError (every address of a host refused)", () => {
    for (const code of ["ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH"]) {
      expect(storeFailure(errno(code, "socket trouble"))?.details?.store_error, code).toBe(code);
    }
    const aggregate = new AggregateError([
      errno("ECONNREFUSED", "::1:5432"),
      errno("ECONNREFUSED", "127.0.0.1:5432"),
    ]);
    expect(storeFailure(aggregate)?.details?.store_error).toBe("ECONNREFUSED");
  });

  it("node-postgres errors that carry only a message", () => {
    const cases: Array<[string, string]> = [
      ["Connection terminated unexpectedly", "PG_CONNECTION_TERMINATED"],
      ["Connection terminated due to connection timeout", "PG_CONNECT_TIMEOUT"],
      ["timeout exceeded when trying to connect", "PG_CONNECT_TIMEOUT"],
      ["Client has encountered a connection error and is not queryable", "PG_CONNECTION_BROKEN"],
    ];
    for (const [message, code] of cases) {
      const failure = storeFailure(new Error(message));
      expect(failure?.code, message).toBe("transient");
      expect(failure?.details?.store_error).toBe(code);
    }
  });

  it("SQLSTATEs: connection exceptions (class 08), shutdown, startup, no slots, disk full, read-only", () => {
    const cases: Array<[string, string]> = [
      ["08006", "cannot reach PostgreSQL"],
      ["08001", "cannot reach PostgreSQL"],
      ["57P01", "shutting down"],
      ["57P02", "shutting down"],
      ["57P03", "starting up"],
      ["53300", "no free connection slots"],
      ["53100", "disk is full"],
      ["25006", "accepts no writes"],
    ];
    for (const [code, reason] of cases) {
      const failure = storeFailure(sqlstate(code, "server says no"), {
        kind: "postgres",
        location: "db:5432/x",
      });
      expect(failure?.code, code).toBe("transient");
      expect(failure?.message).toContain(reason);
      expect(failure?.hint).toContain("PostgreSQL at db:5432/x (DATABASE_URL)");
      expect(failure?.details?.store_error).toBe(code);
    }
    expect(storeFailure(sqlstate("53300", "too many clients"))?.hint).toContain("max_connections");
    expect(storeFailure(sqlstate("25006", "read-only"))?.hint).toContain("primary");
  });
});

describe("storeFailure: not a store outage", () => {
  it("leaves constraint violations, SQL errors, bugs and AirlockErrors alone", () => {
    const db = new BetterSqlite3(":memory:");
    db.exec("create table t (id integer primary key)");
    db.exec("insert into t values (1)");
    expect(storeFailure(thrown(() => db.exec("insert into t values (1)")))).toBeNull();
    expect(storeFailure(thrown(() => db.exec("select nope from t")))).toBeNull();
    db.close();
    expect(storeFailure(sqlstate("23505", "duplicate key"))).toBeNull();
    expect(storeFailure(sqlstate("42P01", "relation does not exist"))).toBeNull();
    expect(storeFailure(new TypeError("x is undefined"))).toBeNull();
    expect(storeFailure("a string")).toBeNull();
    expect(storeFailure(null)).toBeNull();
    const already = storeFailure(errno("ECONNREFUSED", "x"));
    expect(storeFailure(already)).toBeNull();
    expect(storeFailure(new AirlockError("not_found", "No such connection."))).toBeNull();
  });
});

describeWithPostgres("storeFailure: real PostgreSQL errors", () => {
  it("a write in a read-only transaction (25006)", async () => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    try {
      await client.query("begin read only");
      const error = await rejected(client.query("create temp table airlock_ro (a int)"));
      await client.query("rollback");
      expect((error as { code?: string }).code).toBe("25006");
      expect(storeFailure(error)?.details).toEqual({ retry_after_seconds: 30, store_error: "25006" });
    } finally {
      await client.end();
    }
  });

  it("a backend terminated by an administrator mid-query (57P01)", async () => {
    const victim = new pg.Client({ connectionString: TEST_DATABASE_URL });
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await victim.connect();
    await admin.connect();
    victim.on("error", () => {});
    try {
      const pid = (await victim.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0]?.pid;
      const sleeping = rejected(victim.query("select pg_sleep(10)"));
      // Only our own backend: other test files share this server.
      await admin.query("select pg_terminate_backend($1)", [pid]);
      const error = await sleeping;
      expect((error as { code?: string }).code).toBe("57P01");
      expect(storeFailure(error)?.message).toContain("shutting down");
    } finally {
      await admin.end();
      await victim.end().catch(() => {});
    }
  });
});

/**
 * PostgreSQL outages for real: a store whose server vanishes (a TCP forwarder in front of the test
 * server is cut, so only this store loses it) rejects every call with `transient`, reports each
 * failure, and recovers by itself when the server is back.
 */
import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { failure } from "../../test/support/airlock-error.js";
import { createTestSchema, describeWithPostgres, type TestSchema } from "../../test/support/postgres.js";
import { startTcpProxy, type TcpProxy } from "../../test/support/tcp-proxy.js";
import { generateKeyringValue, parseEncryptionKeys } from "./crypto.js";
import { openStore } from "./index.js";
import type { SqlStore } from "./sql-store.js";

const keyring = parseEncryptionKeys(generateKeyringValue("k1"));

describe("openStore on PostgreSQL that is not there", () => {
  it("is config_invalid naming the server and the driver's code, not the transient it became", async () => {
    const failures: string[] = [];
    const error = await failure(
      openStore("postgres://airlock:hunter2@127.0.0.1:1/nope", {
        keyring,
        onFailure: (failure, store) => failures.push(`${store}:${String(failure.details?.store_error)}`),
      }),
    );
    expect(error.code).toBe("config_invalid");
    expect(error.message).toBe("Cannot connect to PostgreSQL at 127.0.0.1:1/nope: ECONNREFUSED.");
    expect(failures).toEqual(["postgres:ECONNREFUSED"]);
  });
});

describeWithPostgres("a PostgreSQL store during an outage", () => {
  let schema: TestSchema;
  let proxy: TcpProxy;
  let store: SqlStore;
  const failures: string[] = [];

  beforeAll(async () => {
    schema = await createTestSchema("outage");
    proxy = await startTcpProxy("127.0.0.1", Number(new URL(schema.url).port || 5432));
    store = await openStore(proxy.via(schema.url), {
      keyring,
      onFailure: (failure, kind) => failures.push(`${kind}:${String(failure.details?.store_error)}`),
    });
  });
  afterEach(async () => {
    await proxy.start().catch(() => {});
  });
  afterAll(async () => {
    await store?.close();
    await proxy?.stop();
    await schema?.drop();
  });

  it("rejects reads, writes and the health write with transient while the server is gone; heals after", async () => {
    await store.checkWritable();
    const healthy = await schema.query<{ checked_at: string }>("select checked_at from airlock_health");
    expect(healthy).toHaveLength(1);

    await proxy.stop();
    failures.length = 0;
    for (const call of [
      () => store.checkWritable(),
      () => store.getConnection("u1"),
      () => store.listConnections({ limit: 10 }),
      () => store.appendEvent("u1", { type: "x" }),
    ]) {
      const error = await failure(call());
      expect(error.code).toBe("transient");
      expect(error.message).toBe("The database is unavailable (cannot reach PostgreSQL).");
      expect(error.hint).toContain(`PostgreSQL at 127.0.0.1:${proxy.port}`);
      expect(error.details?.retry_after_seconds).toBe(5);
      expect(["ECONNREFUSED", "ECONNRESET", "PG_CONNECTION_TERMINATED"]).toContain(
        error.details?.store_error,
      );
    }
    expect(failures).toHaveLength(4);
    expect(failures.every((f) => f.startsWith("postgres:"))).toBe(true);

    await proxy.start();
    await store.checkWritable();
    expect(await store.getConnection("u1")).toBeNull();
  });

  it("the health write fails where PostgreSQL accepts only reads (25006), which a read would not show", async () => {
    // A role of its own whose sessions default to read-only: what a standby looks like to a client,
    // without touching the shared server's other sessions.
    const role = `airlock_ro_${randomBytes(4).toString("hex")}`;
    await schema.query(`create role ${role} login`);
    await schema.query(`grant usage on schema "${schema.schema}" to ${role}`);
    await schema.query(`grant select, insert, update on all tables in schema "${schema.schema}" to ${role}`);
    await schema.query(`alter role ${role} set default_transaction_read_only = on`);
    const url = new URL(schema.url);
    url.username = role;
    const readOnly = await openStore(url.href, { keyring, migrate: false });
    try {
      expect(await readOnly.getConnection("u1")).toBeNull();
      const error = await failure(readOnly.checkWritable());
      expect(error.message).toBe("The database is unavailable (PostgreSQL accepts no writes).");
      expect(error.details).toEqual({ retry_after_seconds: 30, store_error: "25006" });
      expect(error.hint).toContain("primary");
    } finally {
      await readOnly.close();
      await schema.query(`drop owned by ${role}`);
      await schema.query(`drop role ${role}`);
    }
  });
});

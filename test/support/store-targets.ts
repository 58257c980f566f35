/**
 * The two real stores for suites that run against both: SQLite in a temp folder and PostgreSQL in
 * a schema of its own (skipped with a visible line when AIRLOCK_TEST_DATABASE_URL is unset).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { generateKeyringValue, parseEncryptionKeys } from "../../src/store/crypto.js";
import { openStore } from "../../src/store/index.js";
import type { SqlStore } from "../../src/store/sql-store.js";
import { announcePostgresSkip, createTestSchema, TEST_DATABASE_URL } from "./postgres.js";

export interface TestDatabase {
  /** What a child process passes to openStore (file path or postgres URL with ?schema=). */
  url: string;
  /** The AIRLOCK_ENCRYPTION_KEYS value every store on this database uses. */
  keys: string;
  open(options?: { webhookEvents?: ReadonlySet<string> }): Promise<SqlStore>;
  /** SQL on the database as stored (`$1` placeholders on both), for checks the Store API cannot make. */
  query<R extends Record<string, unknown> = Record<string, unknown>>(
    text: string,
    params?: unknown[],
  ): Promise<R[]>;
  cleanup(): Promise<void>;
}

export interface StoreTarget {
  name: "sqlite" | "postgres";
  skip: boolean;
  create(): Promise<TestDatabase>;
}

/**
 * @example
 * for (const target of storeTargets("token manager")) describe.skipIf(target.skip)(target.name, () => { … });
 */
export function storeTargets(suite: string): StoreTarget[] {
  announcePostgresSkip(suite);
  return [
    {
      name: "sqlite",
      skip: false,
      async create() {
        const dir = mkdtempSync(join(tmpdir(), "airlock-tokens-"));
        const file = join(dir, "airlock.db");
        let raw: BetterSqlite3.Database | undefined;
        const query = async <R>(text: string, params: unknown[] = []) => {
          raw ??= new BetterSqlite3(file, { timeout: 5000 });
          const statement = raw.prepare(text.replace(/\$\d+/g, "?"));
          if (statement.reader) return statement.all(...params) as R[];
          statement.run(...params);
          return [];
        };
        return track(file, query, async () => {
          raw?.close();
          rmSync(dir, { recursive: true, force: true });
        });
      },
    },
    {
      name: "postgres",
      skip: !TEST_DATABASE_URL,
      async create() {
        const schema = await createTestSchema("tokens");
        return track(schema.url, schema.query, () => schema.drop());
      },
    },
  ];
}

function track(url: string, query: TestDatabase["query"], drop: () => Promise<void>): TestDatabase {
  const keys = generateKeyringValue("t1");
  const keyring = parseEncryptionKeys(keys);
  const stores: SqlStore[] = [];
  return {
    url,
    keys,
    query,
    async open(options = {}) {
      const store = await openStore(url, { keyring, webhookEvents: options.webhookEvents });
      stores.push(store);
      return store;
    },
    async cleanup() {
      for (const store of stores.splice(0)) await store.close();
      await drop();
    },
  };
}

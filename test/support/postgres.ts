/**
 * PostgreSQL for tests: each caller gets its own schema on the AIRLOCK_TEST_DATABASE_URL server, so
 * test files running in parallel never see each other's rows. Unset variable: the suites skip with a
 * visible line. Set but unreachable: the suite fails.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";

export const TEST_DATABASE_URL = process.env.AIRLOCK_TEST_DATABASE_URL?.trim() || undefined;

/**
 * Prints why a PostgreSQL suite is skipped (call at module level next to `describe.skipIf`).
 *
 * @example
 * announcePostgresSkip("store contract");
 * describe.skipIf(!TEST_DATABASE_URL)("postgres", () => { … });
 */
export function announcePostgresSkip(suite: string): void {
  if (!TEST_DATABASE_URL) {
    console.warn(
      `[postgres] SKIPPED ${suite}: AIRLOCK_TEST_DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)`,
    );
  }
}

export interface TestSchema {
  /** The schema name (also in `url` as `?schema=`). */
  schema: string;
  /** AIRLOCK_TEST_DATABASE_URL plus `?schema=<schema>`: hand it to openStore. */
  url: string;
  /** Runs SQL with unqualified names resolving to the schema (`$1` placeholders). */
  query<R extends Record<string, unknown> = Record<string, unknown>>(
    text: string,
    params?: unknown[],
  ): Promise<R[]>;
  /** Closes the admin connection; the schema goes at the end of the run (postgres-cleanup.ts). */
  drop(): Promise<void>;
}

/**
 * @example
 * const db = await createTestSchema("store");
 * const store = await openStore(db.url, { keyring });
 * await db.drop();
 */
export async function createTestSchema(label: string): Promise<TestSchema> {
  if (!TEST_DATABASE_URL) throw new Error("AIRLOCK_TEST_DATABASE_URL is not set");
  const schema = `t_${label.replace(/[^a-z0-9_]/g, "_").slice(0, 20)}_${randomBytes(5).toString("hex")}`;
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema}` });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `AIRLOCK_TEST_DATABASE_URL is set but PostgreSQL is unreachable (${(error as Error).message}); start it or unset the variable`,
    );
  }
  await client.query(`create schema "${schema}"`);
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set("schema", schema);
  return {
    schema,
    url: url.toString(),
    async query<R extends Record<string, unknown>>(text: string, params: unknown[] = []) {
      return (await client.query(text, params)).rows as R[];
    },
    // The schema itself is dropped after the whole run (postgres-cleanup.ts): dropping it now
    // could break another file's migration that is introspecting the catalog at this moment.
    async drop() {
      await client.end();
    },
  };
}

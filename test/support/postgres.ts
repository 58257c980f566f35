/**
 * The PostgreSQL gate for tests. AIRLOCK_TEST_DATABASE_URL names the shared server; unset, every
 * PostgreSQL suite is skipped with the one visible skip line (skip.ts); set but unreachable, the
 * suite fails. Each caller works in a schema (or database) of its own, so test files running in
 * parallel never see each other's rows; the schemas go at the end of the run (postgres-cleanup.ts).
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { describe } from "vitest";
import { announceSkip } from "./skip.js";

export const TEST_DATABASE_URL = process.env.AIRLOCK_TEST_DATABASE_URL?.trim() || undefined;

/** Why the PostgreSQL suites cannot run here, or undefined when they can. */
export const postgresMissing: string | undefined = TEST_DATABASE_URL
  ? undefined
  : "AIRLOCK_TEST_DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)";

/**
 * Prints why a PostgreSQL suite is skipped (call at module level next to `describe.skipIf`, or use
 * {@link describeWithPostgres}, which does both).
 *
 * @example
 * announcePostgresSkip("store contract");
 * describe.skipIf(!TEST_DATABASE_URL)("postgres", () => { … });
 */
export function announcePostgresSkip(suite: string): void {
  announceSkip("postgres", suite, postgresMissing);
}

/**
 * A describe block that needs the PostgreSQL server: skipped, with the visible line, when
 * AIRLOCK_TEST_DATABASE_URL is unset. Inside it, {@link TEST_DATABASE_URL} is set.
 *
 * @example
 * describeWithPostgres("a PostgreSQL store during an outage", () => { … });
 */
export function describeWithPostgres(name: string, body: () => void): void {
  announcePostgresSkip(name);
  describe.skipIf(postgresMissing !== undefined)(name, body);
}

/** The server's URL; throws when AIRLOCK_TEST_DATABASE_URL is unset (a suite outside the gate). */
export function requireTestDatabaseUrl(): string {
  if (!TEST_DATABASE_URL) throw new Error("AIRLOCK_TEST_DATABASE_URL is not set");
  return TEST_DATABASE_URL;
}

/** Connects `client`; an unreachable server fails with what to do about it. */
export async function connectTestServer(client: pg.Client): Promise<void> {
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `AIRLOCK_TEST_DATABASE_URL is set but PostgreSQL is unreachable (${(error as Error).message}); start it or unset the variable`,
    );
  }
}

/** `server` (default: the test server) with `?schema=<schema>`, for openStore (which creates it). */
export function schemaUrl(schema: string, server: string = requireTestDatabaseUrl()): string {
  const url = new URL(server);
  url.searchParams.set("schema", schema);
  return url.href;
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
  const server = requireTestDatabaseUrl();
  const schema = `t_${label.replace(/[^a-z0-9_]/g, "_").slice(0, 20)}_${randomBytes(5).toString("hex")}`;
  const client = new pg.Client({ connectionString: server, options: `-c search_path=${schema}` });
  await connectTestServer(client);
  await client.query(`create schema "${schema}"`);
  return {
    schema,
    url: schemaUrl(schema, server),
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

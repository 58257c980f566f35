/**
 * Vitest global setup: the PostgreSQL schemas that test files create (`t_…` for store and token
 * suites, `airlock_svc_…` for service suites) are dropped here, before and after the whole run, not
 * by each test. A DROP SCHEMA while another file's migrator introspects the catalog makes that
 * introspection fail with "schema … does not exist" (Kysely lists every schema's tables), so no
 * schema is dropped while tests run.
 */
import pg from "pg";

const PREFIXES = ["t\\_%", "airlock\\_svc\\_%"];

async function dropTestSchemas(): Promise<void> {
  const url = process.env.AIRLOCK_TEST_DATABASE_URL?.trim();
  if (!url) return;
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
  } catch {
    return; // the suites themselves fail with a clear message when the server is unreachable
  }
  try {
    const { rows } = await client.query<{ nspname: string }>(
      "select nspname from pg_namespace where nspname like any($1)",
      [PREFIXES],
    );
    for (const { nspname } of rows) await client.query(`drop schema if exists "${nspname}" cascade`);
  } finally {
    await client.end();
  }
}

export async function setup(): Promise<() => Promise<void>> {
  await dropTestSchemas();
  return dropTestSchemas;
}

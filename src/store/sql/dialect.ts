/** The parts of the SQL store that differ between SQLite (sqlite.ts) and PostgreSQL (postgres.ts). */
import type { SelectQueryBuilder, Transaction } from "kysely";
import type { ConnectionListener } from "../change-feed.js";
import type { SqlKind } from "../migrations.js";
import type { Database } from "../schema.js";

/** The parts of a store that differ between SQLite and PostgreSQL. */
export interface SqlDialect {
  readonly kind: SqlKind;
  /** Extra migrator settings (PostgreSQL: the schema holding Kysely's bookkeeping tables). */
  readonly migrationTableSchema?: string | undefined;
  /** Runs `migrate` so that concurrent instances never apply the same migration twice. */
  guardMigration(migrate: () => Promise<void>): Promise<void>;
  /** Inside the changing transaction (PostgreSQL: NOTIFY, delivered on commit). */
  announceInTransaction(trx: Transaction<Database>, identifier: string, version: number): Promise<void>;
  /** After the commit (SQLite: tell this process's listeners). */
  announceAfterCommit(identifier: string, version: number): void;
  subscribe(listener: ConnectionListener): () => void;
  /** Row-locks the outbox candidates so concurrent claimers skip each other (PostgreSQL). */
  lockOutboxCandidates<O>(
    query: SelectQueryBuilder<Database, "events", O>,
  ): SelectQueryBuilder<Database, "events", O>;
  /** Resolves once cross-process change notifications are being received (PostgreSQL). */
  ready?(): Promise<void>;
  close(): Promise<void>;
}

/**
 * What every SQL store module works with: the database, the dialect, the keyring, the webhook
 * event types and the store's clock. Built once by `SqlStore`.
 */
import type { Kysely } from "kysely";
import type { Keyring } from "../crypto.js";
import type { Database } from "../schema.js";
import type { SqlDialect } from "./dialect.js";

/** A clock: the current time. Injected for tests; {@link systemClock} otherwise. */
export type Clock = () => Date;

/**
 * The real clock, the default wherever a store takes one.
 */
export const systemClock: Clock = () => new Date();

export interface SqlContext {
  readonly db: Kysely<Database>;
  readonly dialect: SqlDialect;
  readonly keyring: Keyring;
  /** Event types that also go to the webhook outbox; null: none. */
  readonly webhookEvents: ReadonlySet<string> | null;
  /**
   * The times the store stamps itself (creation times, health checks, event ids); times the
   * caller passes as `now` are used as given.
   */
  readonly now: Clock;
}

/**
 * What every SQL store module works with: the database, the dialect, the keyring, the webhook
 * event types, the store's clock and the integration its connection methods act on. Built by
 * `SqlStore` (once, and once more per `forIntegration` view).
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
  /**
   * The Airtable OAuth integration whose connections (and their sessions, events and webhooks)
   * this store's per-connection methods read and write: `default` unless a `forIntegration` view.
   */
  readonly integration: string;
}

/** The integration `AIRTABLE_*` configures, and every row made before there were several. */
export const DEFAULT_INTEGRATION = "default";

/**
 * A connection's key wherever one string must name it across integrations (encryption contexts,
 * change announcements): the identifier alone for the default integration, as before there were
 * several, else `integration/identifier` (an identifier never holds a `/`).
 */
export function connectionKey(integration: string, identifier: string): string {
  return integration === DEFAULT_INTEGRATION ? identifier : `${integration}/${identifier}`;
}

/** The inverse of {@link connectionKey}. */
export function parseConnectionKey(key: string): { integration: string; identifier: string } {
  const slash = key.indexOf("/");
  return slash < 0
    ? { integration: DEFAULT_INTEGRATION, identifier: key }
    : { integration: key.slice(0, slash), identifier: key.slice(slash + 1) };
}

/**
 * What every route module of the service receives: configuration, the store, the token manager,
 * the OAuth client, metrics, the logger and the clock. Built once by `startService`.
 */
import type { AirtableOAuth } from "../airtable/oauth.js";
import type { Logger } from "../shared/log.js";
import type { Metrics } from "../shared/metrics.js";
import type { Store } from "../store/types.js";
import type { TokenManager } from "../tokens/token-manager.js";
import type { ServiceConfig } from "./config.js";

export interface ServiceContext {
  /** Final configuration: in demo mode `config.airtable` already points at the running emulator. */
  config: ServiceConfig;
  store: Store;
  tokens: TokenManager;
  oauth: AirtableOAuth;
  metrics: Metrics;
  logger: Logger;
  /** Set in demo mode (no AIRTABLE_CLIENT_ID): pages show a banner naming the emulator. */
  demo: { emulatorUrl: string } | null;
  /** The clock every expiry check uses (tests may pass their own). */
  now(): Date;
}

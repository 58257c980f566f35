/**
 * What every route module of the service receives: configuration, the store, the token manager,
 * the OAuth client, metrics, the logger, the Airtable webhook worker and the clock. Built once by `startService`.
 */
import type { AirtableOAuth } from "../airtable/oauth.js";
import type { Logger } from "../shared/log.js";
import type { Metrics } from "../shared/metrics.js";
import type { AirtableWebhookRecord, Store } from "../store/types.js";
import type { TokenManager } from "../tokens/token-manager.js";
import type { ServiceConfig } from "./config.js";
import type { Integration, Integrations } from "./integrations.js";

/** The Airtable webhook worker as the routes and the keeper see it. */
export interface AirtableWebhookWork {
  /** Starts (or joins) the work due on one webhook: a refresh, a payload fetch. */
  work(id: string): Promise<void>;
  /** Deletes what an unanswered creation may have left on Airtable, then its `creating` row. */
  abandonCreation(webhook: AirtableWebhookRecord): Promise<boolean>;
  /** No new runs; resolves once the ones in progress are done. */
  stop(): Promise<void>;
}

export interface ServiceContext {
  /** Final configuration: in demo mode `config.airtable` already points at the running emulator. */
  config: ServiceConfig;
  /** The store, token manager and OAuth client of the integration the routes act on (`default`, or the one `/v1/integrations/:id` names). */
  store: Store;
  tokens: TokenManager;
  oauth: AirtableOAuth;
  /** The integration the routes act on: `store`, `tokens` and `oauth` are its. */
  integration: Integration;
  /** Every configured integration, `default` first. */
  integrations: Integrations;
  metrics: Metrics;
  logger: Logger;
  /** Set in demo mode (no AIRTABLE_CLIENT_ID): pages show a banner naming the emulator. */
  demo: { emulatorUrl: string } | null;
  /** The Airtable webhook worker (server/airtable-webhooks/worker.ts); a verified ping triggers it. */
  airtableWebhooks: AirtableWebhookWork;
  /** The clock every expiry check uses (tests may pass their own). */
  now(): Date;
}

/**
 * The context acting on `integration`: its store view, token manager and OAuth client in place of
 * the default's; everything else shared.
 *
 * @example
 * const readonly = contextFor(ctx, ctx.integrations.get("readonly"));
 * await readonly.tokens.getAccessToken("user_1");
 */
export function contextFor(ctx: ServiceContext, integration: Integration): ServiceContext {
  return {
    ...ctx,
    integration,
    store: integration.store,
    tokens: integration.tokens,
    oauth: integration.oauth,
  };
}

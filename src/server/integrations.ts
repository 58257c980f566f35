/**
 * The integrations a running service acts for, each with its own OAuth client, token manager and
 * store view (connections keyed by integration and identifier). The `default` one is the
 * `AIRTABLE_*` integration, what every route without `/v1/integrations/:id` acts on; more come
 * from AIRLOCK_INTEGRATIONS_FILE (fixed at start) and from `POST /v1/integrations` (stored, so
 * every instance picks them up: at once when a request names one it does not know yet, and within
 * a few seconds for the keep-alive loop).
 */
import type { AirtableOAuth } from "../airtable/oauth.js";
import { AirlockError } from "../shared/errors.js";
import type { Store } from "../store/types.js";
import type { TokenManager } from "../tokens/token-manager.js";

/** Where an integration is configured. */
export type IntegrationSource = "environment" | "file" | "api";

export interface Integration {
  id: string;
  name: string;
  clientId: string;
  /** The scopes a connect session gets when it names none. */
  scopes: readonly string[];
  source: IntegrationSource;
  oauth: AirtableOAuth;
  tokens: TokenManager;
  /** The store acting on this integration's connections. */
  store: Store;
}

/** The integrations by id, `default` first, then in the order they were added. */
export class Integrations {
  readonly #byId = new Map<string, Integration>();
  readonly default: Integration;
  /** Reads the stored integrations and applies them (set once the service has started). */
  #sync: ((force: boolean) => Promise<void>) | null = null;

  constructor(all: readonly Integration[]) {
    const first = all[0];
    if (!first) throw new Error("Integrations needs at least the default integration");
    this.default = first;
    for (const integration of all) this.#byId.set(integration.id, integration);
  }

  list(): Integration[] {
    return [...this.#byId.values()];
  }

  find(id: string): Integration | undefined {
    return this.#byId.get(id);
  }

  /**
   * The integration `id` names; `not_found` (naming the configured ones) otherwise.
   *
   * @example
   * const readonly = ctx.integrations.get("readonly");
   * await readonly.tokens.getAccessToken("user_1");
   */
  get(id: string): Integration {
    const found = this.#byId.get(id);
    if (found) return found;
    throw this.#unknown(id);
  }

  /**
   * Like {@link find}, but an id this instance does not know yet is looked up in the store first
   * (another instance may have just created it through the API).
   *
   * @example
   * const integration = await ctx.integrations.resolve(session.integration);
   */
  async resolve(id: string): Promise<Integration | undefined> {
    const found = this.#byId.get(id);
    if (found || !this.#sync) return found;
    await this.#sync(false);
    return this.#byId.get(id);
  }

  /** Like {@link get}, after {@link resolve}. */
  async require(id: string): Promise<Integration> {
    const found = await this.resolve(id);
    if (found) return found;
    throw this.#unknown(id);
  }

  /** Reads the stored integrations now (after this instance created or deleted one). */
  async sync(): Promise<void> {
    await this.#sync?.(true);
  }

  /** The store sync `resolve` (throttled) and `sync` (forced) run (service.ts). */
  setSync(sync: (force: boolean) => Promise<void>): void {
    this.#sync = sync;
  }

  add(integration: Integration): void {
    this.#byId.set(integration.id, integration);
  }

  remove(id: string): Integration | undefined {
    const found = this.#byId.get(id);
    if (found && found !== this.default) this.#byId.delete(id);
    return found;
  }

  #unknown(id: string): AirlockError {
    return new AirlockError("not_found", `No integration "${id}" is configured.`, {
      hint: `Configured: ${[...this.#byId.keys()].join(", ")}. Add one with POST /v1/integrations, or in the file AIRLOCK_INTEGRATIONS_FILE names (GET /v1/integrations lists them).`,
    });
  }
}

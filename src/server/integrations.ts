/**
 * The integrations a running service acts for, each with its own OAuth client, token manager and
 * store view (connections keyed by integration and identifier). The `default` one is the
 * `AIRTABLE_*` integration, what every route without `/v1/integrations/:id` acts on.
 */
import type { AirtableOAuth } from "../airtable/oauth.js";
import { AirlockError } from "../shared/errors.js";
import type { Store } from "../store/types.js";
import type { TokenManager } from "../tokens/token-manager.js";

export interface Integration {
  id: string;
  name: string;
  clientId: string;
  /** The scopes a connect session gets when it names none. */
  scopes: readonly string[];
  oauth: AirtableOAuth;
  tokens: TokenManager;
  /** The store acting on this integration's connections. */
  store: Store;
}

/** The integrations by id, `default` first. */
export class Integrations {
  readonly #byId: ReadonlyMap<string, Integration>;
  readonly default: Integration;

  constructor(all: readonly Integration[]) {
    const first = all[0];
    if (!first) throw new Error("Integrations needs at least the default integration");
    this.default = first;
    this.#byId = new Map(all.map((integration) => [integration.id, integration]));
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
    throw new AirlockError("not_found", `No integration "${id}" is configured.`, {
      hint: `Configured: ${[...this.#byId.keys()].join(", ")}. More are added in the file AIRLOCK_INTEGRATIONS_FILE names (GET /v1/integrations lists them).`,
    });
  }
}

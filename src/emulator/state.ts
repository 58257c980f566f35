import { AirlockError } from "../shared/errors.js";
import { ChangeFeed } from "./changes.js";
import { EmulatorClock } from "./clock.js";
import { type EmulatorConfig, type EmulatorOptions, findIntegration, resolveConfig } from "./config.js";
import { FaultInjector } from "./faults.js";
import { GrantStore } from "./grants.js";
import { BaseRateLimiter } from "./rate-limit.js";
import { createSampleData, type SampleData } from "./sample-data.js";
import { buildSeedData } from "./seed-data.js";
import { readStateFile, STATE_FILE_VERSION, type StateFile, StateFileWriter } from "./state-file.js";
import { type EmulatorStats, emptyStats } from "./stats.js";

/**
 * Everything one emulator instance knows, shared by its route modules.
 *
 * @example
 * const state = new EmulatorState({ autoApprove: true });
 * state.clock.advance(61 * 60);
 */
export class EmulatorState {
  readonly config: EmulatorConfig;
  readonly clock: EmulatorClock;
  readonly grants: GrantStore;
  readonly faults = new FaultInjector();
  readonly limiter: BaseRateLimiter;
  /**
   * The user, bases, tables and records the Web API serves: the user's seed data (`data` option)
   * or the built-in sample. Writes mutate it; reset rebuilds it in place (routes hold a reference).
   */
  readonly data: SampleData;
  /** Every write to a base (records, schema), for the webhooks hub. */
  readonly changes = new ChangeFeed();
  /** Live counters, mutated by the routes (reset zeroes this same object: routes hold a reference). */
  readonly stats: EmulatorStats = emptyStats();

  /**
   * Scopes currently enabled on the FIRST integration (starts as `config.scopes`). Disabling one
   * later strips it from outstanding tokens, as Airtable does. Every integration's: {@link enabledScopesOf}.
   */
  readonly enabledScopes: Set<string>;

  /** Enabled scopes per integration, by client id (the first one's set is `enabledScopes`). */
  readonly #enabled: Map<string, Set<string>>;

  /** Set when `config.stateFile` is: saves durable state after changes. */
  readonly #writer: StateFileWriter | undefined;

  /** What modules that keep their own per-emulator state (comments, …) clear on reset. */
  readonly #resetListeners = new Set<() => void>();

  /**
   * Throws AirlockError("config_invalid") for a bad option, or a state file that is unreadable,
   * damaged, of another version or holding grants of a client id that is not one of the integrations.
   */
  constructor(options: EmulatorOptions = {}) {
    this.config = resolveConfig(options);
    this.data = this.#freshData();
    const changed = () => this.#writer?.schedule();
    this.clock = new EmulatorClock(Date.now, changed);
    this.#enabled = new Map(this.config.integrations.map((i) => [i.clientId, new Set(i.scopes)]));
    this.enabledScopes = this.#enabled.get(this.config.clientId)!;
    const isEnabled = (scope: string, clientId: string) => this.#enabled.get(clientId)?.has(scope) ?? false;
    this.grants = new GrantStore(this.clock, this.config, isEnabled, changed);
    this.limiter = new BaseRateLimiter(this.clock);
    const path = this.config.stateFile;
    if (path !== undefined) {
      const saved = readStateFile(path);
      if (saved) this.#restore(path, saved);
      // Created after the restore, so restoring does not count as a change.
      this.#writer = new StateFileWriter(path, () => this.snapshot());
    }
  }

  #freshData(): SampleData {
    return this.config.data === undefined ? createSampleData() : buildSeedData(this.config.data);
  }

  /**
   * Runs `listener` on every reset, for modules that keep per-emulator state of their own.
   *
   * @example
   * state.onReset(() => myStore.clear());
   */
  onReset(listener: () => void): void {
    this.#resetListeners.add(listener);
  }

  #restore(path: string, saved: StateFile): void {
    const savedIntegrations = savedIntegrationsOf(saved);
    const savedIds = new Set([
      ...savedIntegrations.map((i) => i.client_id),
      ...saved.grants.map((g) => g.client_id ?? saved.client_id),
    ]);
    const missing = [...savedIds].filter((id) => !findIntegration(this.config, id));
    if (missing.length > 0) {
      const list = (ids: readonly string[]) => ids.map((id) => JSON.stringify(id)).join(", ");
      const configured = this.config.integrations.map((i) => i.clientId);
      throw new AirlockError(
        "config_invalid",
        `The emulator state file ${path} holds tokens of client id ${list(missing)}, not one of this emulator's integrations (${list(configured)}).`,
        {
          hint: `Start with client id ${list(missing)} (the clientId option, or an entry of integrations), pass another state file, or delete ${path} to start fresh.`,
        },
      );
    }
    this.clock.advance(saved.clock_offset_ms / 1000);
    // Scope changes made while running survive a restart, unless the registration itself changed.
    for (const entry of savedIntegrations) {
      const scopes = findIntegration(this.config, entry.client_id)!.scopes;
      const registered = new Set(entry.registered_scopes);
      const sameRegistration = registered.size === scopes.length && scopes.every((s) => registered.has(s));
      if (sameRegistration) this.setEnabledScopes(entry.enabled_scopes, entry.client_id);
    }
    this.grants.restore(saved.grants, saved.client_id);
  }

  /**
   * The durable part of the state, as written to the state file (tokens by hash only).
   *
   * @example
   * JSON.stringify(state.snapshot());
   */
  snapshot(): StateFile {
    return {
      version: STATE_FILE_VERSION,
      saved_at: new Date().toISOString(),
      client_id: this.config.clientId,
      clock_offset_ms: this.clock.offsetSeconds * 1000,
      registered_scopes: [...this.config.scopes],
      enabled_scopes: [...this.enabledScopes],
      grants: this.grants.snapshot(),
      integrations: this.config.integrations.map((i) => ({
        client_id: i.clientId,
        registered_scopes: [...i.scopes],
        enabled_scopes: [...this.#enabled.get(i.clientId)!],
      })),
    };
  }

  /**
   * Writes the state file now (no-op without one); rejects with AirlockError("config_invalid") when
   * it cannot be written. Changes are otherwise saved in the background, coalesced.
   *
   * @example
   * await state.saveState(); // before exit
   */
  async saveState(): Promise<void> {
    await this.#writer?.save();
  }

  /**
   * The scopes enabled now on the integration `clientId`, or undefined for an unknown client id.
   *
   * @example
   * state.enabledScopesOf("app-b")?.has("webhook:manage");
   */
  enabledScopesOf(clientId: string): ReadonlySet<string> | undefined {
    return this.#enabled.get(clientId);
  }

  /**
   * Changes an integration's enabled scopes (the developer edits the registration); the first
   * integration's unless `clientId` names another. Returns false for an unknown client id.
   *
   * @example
   * state.setEnabledScopes(["data.records:read"]); // tokens lose every other scope at once
   * state.setEnabledScopes(["data.records:read"], "app-b");
   */
  setEnabledScopes(scopes: readonly string[], clientId: string = this.config.clientId): boolean {
    const enabled = this.#enabled.get(clientId);
    if (!enabled) return false;
    enabled.clear();
    for (const scope of scopes) enabled.add(scope);
    this.#writer?.schedule();
    return true;
  }

  /**
   * Back to a fresh start: grants, tokens, codes, stats, faults, rate limits, enabled scopes, the
   * clock, and the data as it was at start (schema and record writes undone, comments gone).
   *
   * @example
   * state.reset();
   */
  reset(): void {
    this.grants.reset();
    for (const integration of this.config.integrations)
      this.setEnabledScopes(integration.scopes, integration.clientId);
    this.faults.clear();
    this.limiter.reset();
    this.clock.reset();
    Object.assign(this.stats, emptyStats());
    Object.assign(this.data, this.#freshData());
    for (const listener of this.#resetListeners) listener();
  }
}

/** The integrations a state file lists; an older file (one integration) lists its top-level fields. */
function savedIntegrationsOf(saved: StateFile): NonNullable<StateFile["integrations"]> {
  return (
    saved.integrations ?? [
      {
        client_id: saved.client_id,
        registered_scopes: saved.registered_scopes,
        enabled_scopes: saved.enabled_scopes,
      },
    ]
  );
}

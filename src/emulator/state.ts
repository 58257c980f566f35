import { AirlockError } from "../shared/errors.js";
import { ChangeFeed } from "./changes.js";
import { EmulatorClock } from "./clock.js";
import { type EmulatorConfig, type EmulatorOptions, resolveConfig } from "./config.js";
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
   * Scopes currently enabled on the integration (starts as `config.scopes`). Disabling one later
   * strips it from outstanding tokens, as Airtable does.
   */
  readonly enabledScopes: Set<string>;

  /** Set when `config.stateFile` is: saves durable state after changes. */
  readonly #writer: StateFileWriter | undefined;

  /** What modules that keep their own per-emulator state (comments, …) clear on reset. */
  readonly #resetListeners = new Set<() => void>();

  /**
   * Throws AirlockError("config_invalid") for a bad option, or a state file that is unreadable,
   * damaged, of another version or written for another client id.
   */
  constructor(options: EmulatorOptions = {}) {
    this.config = resolveConfig(options);
    this.data = this.#freshData();
    const changed = () => this.#writer?.schedule();
    this.clock = new EmulatorClock(Date.now, changed);
    this.enabledScopes = new Set(this.config.scopes);
    this.grants = new GrantStore(this.clock, this.config, (scope) => this.enabledScopes.has(scope), changed);
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
    if (saved.client_id !== this.config.clientId) {
      throw new AirlockError(
        "config_invalid",
        `The emulator state file ${path} holds tokens of client id ${JSON.stringify(saved.client_id)}, not ${JSON.stringify(this.config.clientId)}.`,
        {
          hint: `Start with client id ${JSON.stringify(saved.client_id)}, pass another state file, or delete ${path} to start fresh.`,
        },
      );
    }
    this.clock.advance(saved.clock_offset_ms / 1000);
    // Scope changes made while running survive a restart, unless the registration itself changed.
    const registered = new Set(saved.registered_scopes);
    const sameRegistration =
      registered.size === this.config.scopes.length && this.config.scopes.every((s) => registered.has(s));
    if (sameRegistration) this.setEnabledScopes(saved.enabled_scopes);
    this.grants.restore(saved.grants);
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
   * Changes the integration's enabled scopes (the developer edits the registration).
   *
   * @example
   * state.setEnabledScopes(["data.records:read"]); // tokens lose every other scope at once
   */
  setEnabledScopes(scopes: readonly string[]): void {
    this.enabledScopes.clear();
    for (const scope of scopes) this.enabledScopes.add(scope);
    this.#writer?.schedule();
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
    this.setEnabledScopes(this.config.scopes);
    this.faults.clear();
    this.limiter.reset();
    this.clock.reset();
    Object.assign(this.stats, emptyStats());
    Object.assign(this.data, this.#freshData());
    for (const listener of this.#resetListeners) listener();
  }
}

import { EmulatorClock } from "./clock.js";
import { type EmulatorConfig, type EmulatorOptions, resolveConfig } from "./config.js";
import { FaultInjector } from "./faults.js";
import { GrantStore } from "./grants.js";
import { BaseRateLimiter } from "./rate-limit.js";
import { createSampleData, type SampleData } from "./sample-data.js";
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
  readonly clock = new EmulatorClock();
  readonly grants: GrantStore;
  readonly faults = new FaultInjector();
  readonly limiter: BaseRateLimiter;
  readonly data: SampleData = createSampleData();
  /** Live counters, mutated by the routes (reset zeroes this same object: routes hold a reference). */
  readonly stats: EmulatorStats = emptyStats();

  /**
   * Scopes currently enabled on the integration (starts as `config.scopes`). Disabling one later
   * strips it from outstanding tokens, as Airtable does.
   */
  readonly enabledScopes: Set<string>;

  constructor(options: EmulatorOptions = {}) {
    this.config = resolveConfig(options);
    this.enabledScopes = new Set(this.config.scopes);
    this.grants = new GrantStore(this.clock, this.config, (scope) => this.enabledScopes.has(scope));
    this.limiter = new BaseRateLimiter(this.clock);
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
  }

  /**
   * Back to a fresh start: grants, tokens, codes, stats, faults, rate limits, enabled scopes and the clock.
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
  }
}

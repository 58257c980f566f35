/**
 * The emulator's clock: real time plus an offset that only moves forward. Every expiry inside the
 * emulator (codes, access tokens, refresh tokens, rate-limit penalties) reads this clock, so a test
 * can jump 61 minutes or 59 days without waiting.
 */
export class EmulatorClock {
  #offsetMs = 0;
  readonly #realNow: () => number;
  readonly #onChange: () => void;

  /**
   * @param realNow the underlying time source (injectable for tests).
   * @param onChange called after every advance or reset (the state file saves the offset).
   */
  constructor(realNow: () => number = Date.now, onChange: () => void = () => {}) {
    this.#realNow = realNow;
    this.#onChange = onChange;
  }

  /**
   * Current emulator time in epoch milliseconds.
   */
  now(): number {
    return this.#realNow() + this.#offsetMs;
  }

  /**
   * Moves the clock forward.
   */
  advance(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) {
      throw new RangeError(`advance(seconds) needs a finite number >= 0, got ${seconds}`);
    }
    this.#offsetMs += seconds * 1000;
    if (seconds > 0) this.#onChange();
  }

  /** How far ahead of real time the clock runs, in seconds. */
  get offsetSeconds(): number {
    return this.#offsetMs / 1000;
  }

  /**
   * Back to real time.
   */
  reset(): void {
    this.#offsetMs = 0;
    this.#onChange();
  }
}

import type { EmulatorClock } from "./clock.js";

/** Airtable: 5 requests per second per base [API]. */
export const REQUESTS_PER_SECOND = 5;
/** Airtable: after a 429, wait 30 seconds [API]. */
export const PENALTY_SECONDS = 30;

interface Bucket {
  /** Emulator times of the accepted requests in the last second (oldest first, at most the limit). */
  recent: number[];
  blockedUntil: number;
}

/**
 * A sliding one-second window of `perSecond` requests per key; the next request answers 429 and
 * the key stays blocked for 30 seconds of emulator time (requests during the penalty do not extend it).
 */
export class SlidingWindowLimiter {
  readonly #clock: EmulatorClock;
  readonly #perSecond: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(clock: EmulatorClock, perSecond: number) {
    this.#clock = clock;
    this.#perSecond = perSecond;
  }

  /**
   * Counts one request against `key`; false when it must be refused with 429.
   */
  allow(key: string): boolean {
    const now = this.#clock.now();
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      bucket = { recent: [], blockedUntil: 0 };
      this.#buckets.set(key, bucket);
    }
    if (now < bucket.blockedUntil) return false;
    while (bucket.recent.length > 0 && bucket.recent[0]! <= now - 1000) bucket.recent.shift();
    if (bucket.recent.length >= this.#perSecond) {
      bucket.blockedUntil = now + PENALTY_SECONDS * 1000;
      bucket.recent = [];
      return false;
    }
    bucket.recent.push(now);
    return true;
  }

  /**
   * Seconds until `key` accepts requests again (0 when it does now).
   */
  retryAfter(key: string): number {
    const bucket = this.#buckets.get(key);
    if (!bucket) return 0;
    return Math.max(0, Math.ceil((bucket.blockedUntil - this.#clock.now()) / 1000));
  }

  /**
   * Forgets all windows and penalties.
   */
  reset(): void {
    this.#buckets.clear();
  }
}

/** Airtable's per-base limit: 5 requests per second, keyed by base id. */
export class BaseRateLimiter extends SlidingWindowLimiter {
  constructor(clock: EmulatorClock) {
    super(clock, REQUESTS_PER_SECOND);
  }
}

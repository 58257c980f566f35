import type { EmulatorClock } from "./clock.js";

/** Airtable: 5 requests per second per base [API]. */
export const REQUESTS_PER_SECOND = 5;
/** Airtable: after a 429, wait 30 seconds [API]. */
export const PENALTY_SECONDS = 30;

interface Bucket {
  /** Emulator times of the accepted requests in the last second (oldest first, at most 5). */
  recent: number[];
  blockedUntil: number;
}

/**
 * Per-base limiter: a sliding one-second window of 5 requests; the 6th request answers 429 and the
 * base stays blocked for 30 seconds of emulator time (requests during the penalty do not extend it).
 */
export class BaseRateLimiter {
  readonly #clock: EmulatorClock;
  readonly #buckets = new Map<string, Bucket>();

  constructor(clock: EmulatorClock) {
    this.#clock = clock;
  }

  /**
   * Counts one request against `baseId`; false when it must be refused with 429.
   */
  allow(baseId: string): boolean {
    const now = this.#clock.now();
    let bucket = this.#buckets.get(baseId);
    if (!bucket) {
      bucket = { recent: [], blockedUntil: 0 };
      this.#buckets.set(baseId, bucket);
    }
    if (now < bucket.blockedUntil) return false;
    while (bucket.recent.length > 0 && bucket.recent[0]! <= now - 1000) bucket.recent.shift();
    if (bucket.recent.length >= REQUESTS_PER_SECOND) {
      bucket.blockedUntil = now + PENALTY_SECONDS * 1000;
      bucket.recent = [];
      return false;
    }
    bucket.recent.push(now);
    return true;
  }

  /**
   * Seconds until `baseId` accepts requests again (0 when it does now).
   */
  retryAfter(baseId: string): number {
    const bucket = this.#buckets.get(baseId);
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

/**
 * Waiting with a bound: the one helper for "this promise, or give up after ms" (shutdown
 * deadlines, a caller's wait on a refresh, requests held while the service starts).
 */

/** Marks a wait that ran out (distinct from any value the promise may resolve to). */
export const TIMED_OUT: unique symbol = Symbol("timed out");

/**
 * Resolves to what `promise` resolves to, or to {@link TIMED_OUT} once `ms` have passed; rejects
 * if `promise` rejects first. The timer never outlives the wait.
 */
export function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), Math.max(0, ms));
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

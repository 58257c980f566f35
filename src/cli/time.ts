/** Human time spans for messages ("5 minutes", "in 59 minutes", "3 days ago"). */
import { countOf } from "./output.js";

const UNITS: [number, string][] = [
  [86_400, "day"],
  [3_600, "hour"],
  [60, "minute"],
  [1, "second"],
];

/**
 * A span of seconds in the largest whole unit.
 */
export function formatDuration(seconds: number): string {
  const abs = Math.max(0, Math.round(Math.abs(seconds)));
  for (const [size, name] of UNITS) {
    if (abs >= size) return countOf(Math.floor(abs / size), name);
  }
  return "0 seconds";
}

/**
 * When `at` is relative to `now`.
 */
export function formatRelative(at: Date, now: Date = new Date()): string {
  const seconds = (at.getTime() - now.getTime()) / 1000;
  return seconds >= 0 ? `in ${formatDuration(seconds)}` : `${formatDuration(-seconds)} ago`;
}

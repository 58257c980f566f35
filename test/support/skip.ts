/**
 * The one skip announcer. A suite that cannot run here (a tool or server is missing) is skipped
 * with one visible line on stderr, `[area] SKIPPED suite: why`, so a green run never hides lost
 * coverage; scripts/check-skips.mjs collects these lines from the run's log.
 */

/**
 * Prints the skip line when `missing` says what is absent (call at module level next to
 * `describe.skipIf(missing !== undefined)`); prints nothing when it is undefined.
 *
 * @example
 * const missing = chromiumMissing();
 * announceSkip("chromium", "dashboard in chromium", missing);
 * describe.skipIf(missing !== undefined)("dashboard in chromium", () => { … });
 */
export function announceSkip(area: string, suite: string, missing: string | undefined): void {
  if (missing) process.stderr.write(`[${area}] SKIPPED ${suite}: ${missing}\n`);
}

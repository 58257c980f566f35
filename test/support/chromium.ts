/**
 * The one way the browser suites start Chromium: headless, sandbox off (containers), and every
 * background network feature off so the only traffic is the test's own.
 */
import { type Browser, chromium } from "playwright-core";

/** Flags for a quiet headless Chromium in CI and containers. */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Launches Chromium from AIRLOCK_CHROMIUM_PATH, else /usr/bin/chromium.
 *
 * @example
 * const browser = await launchChromium();
 * const page = await browser.newPage();
 * await browser.close();
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.AIRLOCK_CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [...CHROMIUM_ARGS],
  });
}

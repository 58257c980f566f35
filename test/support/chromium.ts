/**
 * The one way the browser suites start Chromium: headless, sandbox off (containers), and every
 * background network feature off so the only traffic is the test's own.
 *
 * AIRLOCK_CHROMIUM_PATH names the binary; when it is set, a Chromium that does not start fails the
 * suite. Unset, /usr/bin/chromium (Debian's) is used, and where that does not run the suites skip
 * with one visible line: `chromiumMissing()` says why, `announceChromiumSkip()` prints it.
 */
import { spawnSync } from "node:child_process";
import { type Browser, chromium } from "playwright-core";
import { announceSkip } from "./skip.js";

const DEFAULT_PATH = "/usr/bin/chromium";

/** AIRLOCK_CHROMIUM_PATH when set, else undefined. */
const CONFIGURED_PATH = process.env.AIRLOCK_CHROMIUM_PATH?.trim() || undefined;

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

let probed: string | undefined | null = null;

/**
 * Why the browser suites cannot run here (with the install command), or undefined when they can:
 * always undefined when AIRLOCK_CHROMIUM_PATH is set; else whether `/usr/bin/chromium --version`
 * runs (probed once per test file).
 *
 * @example
 * const noChromium = chromiumMissing();
 * describe.skipIf(noChromium !== undefined)("dashboard in chromium", () => { … });
 */
export function chromiumMissing(): string | undefined {
  if (CONFIGURED_PATH) return undefined;
  if (probed !== null) return probed;
  const result = spawnSync(DEFAULT_PATH, ["--version"], { stdio: "ignore", timeout: 30_000 });
  probed =
    result.status === 0
      ? undefined
      : `no Chromium runs at ${DEFAULT_PATH} (${result.error?.message ?? `exit ${result.status}`}): apt-get install chromium, or set AIRLOCK_CHROMIUM_PATH to a Chromium binary`;
  return probed;
}

/**
 * Prints the one visible line for a browser suite skipped because Chromium is absent (call at
 * module level next to `describe.skipIf(chromiumMissing() !== undefined)`).
 *
 * @example
 * announceChromiumSkip("dashboard in chromium");
 */
export function announceChromiumSkip(suite: string): void {
  announceSkip("chromium", suite, chromiumMissing());
}

/**
 * Launches Chromium from AIRLOCK_CHROMIUM_PATH, else /usr/bin/chromium.
 *
 * @example
 * const browser = await launchChromium();
 * const page = await browser.newPage();
 * await browser.close();
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CONFIGURED_PATH ?? DEFAULT_PATH, args: [...CHROMIUM_ARGS] });
}

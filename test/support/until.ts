/**
 * Waiting in tests for something another part does on its own time (a webhook delivery, a
 * keeper's sweep): poll until it holds, or fail naming what never happened.
 */

/** Polls `check` every 50 ms until it returns a truthy value, which it resolves to. */
export async function until<T>(
  check: () => Promise<T> | T,
  what: string,
  timeoutMs = 15_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Lets a second pass: the emulator holds each base to Airtable's 5 requests per second (then a
 * 30-second penalty), and a test step right after a burst (a connect flow, a write and its
 * fetch) would otherwise be refused as a real app's would.
 */
export const quietSecond = (): Promise<void> => new Promise((r) => setTimeout(r, 1100));

/**
 * Sections that must not be cut short by Ctrl-C: between sending a refresh token to Airtable and
 * saving the rotated one, an exit would lose the only valid refresh token (Airtable rotates on
 * every refresh). `main` waits for these to finish before it exits on a signal.
 */
let depth = 0;
let waiters: (() => void)[] = [];

/**
 * Runs `fn` as a critical section.
 */
export async function critical<T>(fn: () => Promise<T>): Promise<T> {
  depth += 1;
  try {
    return await fn();
  } finally {
    depth -= 1;
    if (depth === 0) {
      const done = waiters;
      waiters = [];
      for (const resolve of done) resolve();
    }
  }
}

/**
 * Resolves once no critical section is running (at once if none is).
 */
export function criticalSectionsDone(): Promise<void> {
  return depth === 0 ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve));
}

/** Whether a critical section is running now. */
export function inCriticalSection(): boolean {
  return depth > 0;
}

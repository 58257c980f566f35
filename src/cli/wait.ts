import { AirlockError } from "../shared/errors.js";

/**
 * Waits for `promise`, but rejects with `onTimeout()` after `timeoutMs` and with the signal's
 * reason (a `cancelled` AirlockError) on Ctrl-C.
 */
export function waitFor<T>(
  promise: Promise<T>,
  options: { timeoutMs: number; signal: AbortSignal; onTimeout: () => AirlockError },
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      options.signal.removeEventListener("abort", onAbort);
    };
    const onAbort = () => {
      cleanup();
      reject(cancelledError(options.signal));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(options.onTimeout());
    }, options.timeoutMs);
    if (options.signal.aborted) {
      onAbort();
      return;
    }
    options.signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (error: unknown) => {
        cleanup();
        reject(error);
      },
    );
  });
}

/**
 * The error for an aborted signal: its reason if it is an AirlockError, else a `cancelled` one.
 */
export function cancelledError(signal: AbortSignal): AirlockError {
  return signal.reason instanceof AirlockError
    ? signal.reason
    : new AirlockError("cancelled", "Interrupted.", { hint: "Nothing was changed." });
}

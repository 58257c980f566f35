/**
 * The AirlockError a call fails with, so tests can assert on its code, message and hint. Any other
 * error is rethrown as is; no error at all fails the test.
 */
import { AirlockError } from "../../src/shared/errors.js";

/**
 * The AirlockError `promise` rejects with.
 *
 * @example
 * expect((await failure(client.refresh("r"))).code).toBe("reauth_required");
 */
export async function failure(
  promise: Promise<unknown>,
  expected = "an AirlockError",
): Promise<AirlockError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof AirlockError) return err;
    throw err;
  }
  throw new Error(`expected ${expected}`);
}

/**
 * The AirlockError `fn` throws.
 *
 * @example
 * expect(syncFailure(() => parseScopes("webhook.manage")).hint).toContain("webhook:manage");
 */
export function syncFailure(fn: () => unknown, expected = "an AirlockError"): AirlockError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AirlockError) return err;
    throw err;
  }
  throw new Error(`expected ${expected}`);
}

/** Parameters read from a query string or a form body, with Airtable's "each at most once" rule. */
export interface SingleParams {
  /** Parameter name → its one value (only names sent exactly once). */
  values: Map<string, string>;
  /** Names sent more than once (an `invalid_request` at Airtable). */
  duplicates: string[];
}

/**
 * Reads URLSearchParams, separating parameters sent once from those sent twice or more.
 */
export function singleParams(search: URLSearchParams): SingleParams {
  const values = new Map<string, string>();
  const duplicates = new Set<string>();
  for (const [name, value] of search) {
    if (values.has(name) || duplicates.has(name)) {
      values.delete(name);
      duplicates.add(name);
    } else {
      values.set(name, value);
    }
  }
  return { values, duplicates: [...duplicates] };
}

/** Airtable's alphabet for `state` and `code_verifier`. */
const UNRESERVED = /^[A-Za-z0-9._-]+$/;

/**
 * True when `state` follows Airtable's rule: 16–1024 characters of A-Z a-z 0-9 . - _
 */
export function isValidState(state: string): boolean {
  return state.length >= 16 && state.length <= 1024 && UNRESERVED.test(state);
}

/**
 * True when `verifier` follows Airtable's rule: 43–128 characters of A-Z a-z 0-9 . - _ (no `~`).
 */
export function isValidVerifier(verifier: string): boolean {
  return verifier.length >= 43 && verifier.length <= 128 && UNRESERVED.test(verifier);
}

/**
 * True when `challenge` can be base64url(SHA-256(…)) without padding: exactly 43 characters.
 */
export function isValidChallenge(challenge: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(challenge);
}

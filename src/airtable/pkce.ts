/**
 * PKCE and `state` values by Airtable's rules, which are stricter than RFC 7636: the verifier and
 * the state use only `A-Z a-z 0-9 . - _` (no `~`).
 */
import { createHash, randomInt } from "node:crypto";
import { AirlockError } from "../shared/errors.js";

/** The characters Airtable accepts in a code verifier and in `state`. */
export const PKCE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";

const VERIFIER_RE = /^[A-Za-z0-9._-]{43,128}$/;
const STATE_RE = /^[A-Za-z0-9._-]{16,1024}$/;

function randomString(length: number): string {
  let out = "";
  // randomInt is uniform (rejection sampling), so no modulo bias towards the first characters.
  for (let i = 0; i < length; i++) out += PKCE_ALPHABET[randomInt(PKCE_ALPHABET.length)];
  return out;
}

/**
 * A fresh code verifier: `length` (43–128) random characters from {@link PKCE_ALPHABET}.
 *
 * @example
 * const verifier = generateCodeVerifier(); // 64 chars, e.g. "x3M.q_…"
 */
export function generateCodeVerifier(length = 64): string {
  if (!Number.isInteger(length) || length < 43 || length > 128) {
    throw new AirlockError(
      "invalid_input",
      `A code verifier must be 43 to 128 characters long, not ${length}.`,
      {
        hint: "Pass a length between 43 and 128 (the default 64 is fine).",
      },
    );
  }
  return randomString(length);
}

/**
 * True when `value` is a code verifier Airtable accepts (43–128 chars of `A-Za-z0-9._-`).
 *
 * @example
 * isValidCodeVerifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"); // true
 * isValidCodeVerifier("short"); // false
 */
export function isValidCodeVerifier(value: string): boolean {
  return VERIFIER_RE.test(value);
}

/**
 * Throws `invalid_input` unless `value` is a valid code verifier (the value itself is never echoed).
 *
 * @example
 * assertCodeVerifier(verifierFromSession);
 */
export function assertCodeVerifier(value: string): void {
  if (!isValidCodeVerifier(value)) {
    throw new AirlockError(
      "invalid_input",
      `The code verifier is not valid for Airtable (length ${value.length}; needs 43–128 characters of A-Z a-z 0-9 . - _).`,
      { hint: "Generate it with generateCodeVerifier(); note that Airtable rejects '~'." },
    );
  }
}

/**
 * The S256 code challenge: base64url(SHA-256(verifier)) without padding.
 *
 * @example
 * computeCodeChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
 * // "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
 */
export function computeCodeChallenge(verifier: string): string {
  assertCodeVerifier(verifier);
  return createHash("sha256").update(verifier, "ascii").digest("base64url");
}

/**
 * A fresh `state`: 32 random characters (Airtable allows 16–1024 of `A-Za-z0-9._-`).
 *
 * @example
 * const state = generateState();
 */
export function generateState(length = 32): string {
  if (!Number.isInteger(length) || length < 16 || length > 1024) {
    throw new AirlockError("invalid_input", `A state must be 16 to 1024 characters long, not ${length}.`, {
      hint: "Pass a length between 16 and 1024 (the default 32 is fine).",
    });
  }
  return randomString(length);
}

/**
 * True when `value` is a `state` Airtable accepts (16–1024 chars of `A-Za-z0-9._-`).
 *
 * @example
 * isValidState(generateState()); // true
 * isValidState("has spaces in it!"); // false
 */
export function isValidState(value: string): boolean {
  return STATE_RE.test(value);
}

/**
 * A matched verifier, challenge and state for one authorization attempt.
 *
 * @example
 * const { codeVerifier, codeChallenge, state } = createPkcePair();
 * const url = oauth.authorizationUrl({ state, codeChallenge });
 */
export function createPkcePair(): { codeVerifier: string; codeChallenge: string; state: string } {
  const codeVerifier = generateCodeVerifier();
  return { codeVerifier, codeChallenge: computeCodeChallenge(codeVerifier), state: generateState() };
}

/**
 * Random one-time values (connect tokens, state, browser bindings) and the hashes under which they
 * are stored: the database never holds a value that would let someone replay it.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * A URL-safe random value with `bytes` bytes of entropy (base64url, no padding).
 */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

/**
 * SHA-256 hex of a secret, for storing and looking up one-time values.
 */
export function hashSecret(value: string): string {
  return createHash("sha256").update(value, "utf8").digest("hex");
}

/**
 * Compares two secrets in constant time: both are hashed first, so neither the content nor the
 * length of the expected value leaks through timing.
 */
export function safeEqual(presented: string, expected: string): boolean {
  const a = createHash("sha256").update(presented, "utf8").digest();
  const b = createHash("sha256").update(expected, "utf8").digest();
  return timingSafeEqual(a, b);
}

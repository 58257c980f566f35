/**
 * Connection metadata (issue 12): the JSON object an app attaches to a connection, set on a connect
 * session or with `PATCH /v1/connections/:identifier`. Airlock checks its size and shape, stores it
 * and hands it back (on the connection and in its events); it never looks inside it, so it is no
 * place for secrets.
 */
import { AirlockError } from "../shared/errors.js";
import type { ConnectionMetadata } from "../store/types.js";

/** The most bytes the metadata may take, serialized as JSON (UTF-8). */
export const METADATA_MAX_BYTES = 4096;
/** The most top-level keys. */
export const METADATA_MAX_KEYS = 50;
/** The longest top-level key, in characters. */
export const METADATA_MAX_KEY_LENGTH = 100;

function invalid(message: string, hint: string): AirlockError {
  return new AirlockError("invalid_input", `metadata: ${message}`, {
    hint,
    details: { field: "metadata" },
  });
}

/**
 * `value` (a parsed JSON body field) as metadata: an object within the limits, or null (none).
 * Throws `invalid_input` naming the problem and the fix otherwise.
 *
 * @example
 * checkMetadata({ plan: "pro", team_id: 42 }); // → { plan: "pro", team_id: 42 }
 * checkMetadata(null); // → null (none)
 * checkMetadata(["a"]); // throws invalid_input: "metadata: must be a JSON object, not an array"
 */
export function checkMetadata(value: unknown): ConnectionMetadata | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== "object" || Array.isArray(value)) {
    const kind = Array.isArray(value) ? "an array" : `a ${typeof value}`;
    throw invalid(
      `must be a JSON object, not ${kind}.`,
      'Send an object such as {"plan": "pro"}; put lists and values under its keys (or null for none).',
    );
  }
  const keys = Object.keys(value);
  if (keys.length > METADATA_MAX_KEYS) {
    throw invalid(
      `has ${keys.length} keys; at most ${METADATA_MAX_KEYS} are allowed.`,
      "Group related values under fewer keys (nested objects count as one key), or keep the rest in your own database.",
    );
  }
  const badKey = keys.find((k) => k.length < 1 || k.length > METADATA_MAX_KEY_LENGTH);
  if (badKey !== undefined) {
    throw invalid(
      `the key "${badKey.slice(0, 40)}${badKey.length > 40 ? "…" : ""}" is ${badKey.length} characters long.`,
      `Use keys of 1–${METADATA_MAX_KEY_LENGTH} characters.`,
    );
  }
  const bytes = Buffer.byteLength(JSON.stringify(value), "utf8");
  if (bytes > METADATA_MAX_BYTES) {
    throw invalid(
      `is ${bytes} bytes as JSON; at most ${METADATA_MAX_BYTES} (4 KiB) are allowed.`,
      "Keep ids and small labels here and the rest in your own database, keyed by the identifier.",
    );
  }
  return value as ConnectionMetadata;
}

import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Constant-time string comparison (hash first so lengths do not leak either).
 */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash("sha256").update(a).digest();
  const hb = createHash("sha256").update(b).digest();
  return timingSafeEqual(ha, hb);
}

/**
 * Decodes `Authorization: Basic …`. Accepts standard base64 AND base64url: which one Airtable takes
 * is unconfirmed, so the emulator must not fail a client for either. Returns undefined when the
 * header is not well-formed Basic credentials.
 */
export function parseBasic(header: string): { id: string; secret: string } | undefined {
  const match = /^Basic +([A-Za-z0-9+/_-]+={0,2})$/i.exec(header.trim());
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  return { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

/** RFC 6749 §2.3.1 form-encodes id and secret before base64; Airtable's example app does not. Accept both. */
function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, " "));
  } catch {
    return value;
  }
}

/**
 * The client ids Basic credentials may name: as sent, and form-decoded (see {@link basicMatches}).
 *
 * @example
 * basicClientIds({ id: "my%20app", secret: "s" }); // ["my%20app", "my app"]
 */
export function basicClientIds(credentials: { id: string }): string[] {
  const decoded = formDecode(credentials.id);
  return decoded === credentials.id ? [credentials.id] : [credentials.id, decoded];
}

/**
 * True when the Basic credentials name this integration.
 */
export function basicMatches(
  credentials: { id: string; secret: string },
  clientId: string,
  clientSecret: string,
): boolean {
  const raw = safeEqual(credentials.id, clientId) && safeEqual(credentials.secret, clientSecret);
  return (
    raw ||
    (safeEqual(formDecode(credentials.id), clientId) &&
      safeEqual(formDecode(credentials.secret), clientSecret))
  );
}

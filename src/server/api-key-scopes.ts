/**
 * Named API keys (issue 12): their format, their hash, and which `/v1` routes each scope may call.
 * `admin` may call everything (as AIRLOCK_SECRET_KEY does), `connect` only `POST
 * /v1/connect-sessions`, `proxy` only `/v1/proxy/*` and `POST /v1/connections/:identifier/access-token`
 * (for every integration: the same routes under `/v1/integrations/:id/`).
 */
import { createHash, randomBytes } from "node:crypto";
import type { ApiKeyScope } from "../store/types.js";

export const API_KEY_SCOPES = ["admin", "connect", "proxy"] as const satisfies readonly ApiKeyScope[];

/** Every named key starts with this; AIRLOCK_SECRET_KEY may be anything. */
export const API_KEY_PREFIX = "ak_";

/**
 * A new key: `ak_` and 32 random bytes, base64url.
 *
 * @example
 * const key = generateApiKey(); // "ak_Q2hh…"
 */
export function generateApiKey(): string {
  return `${API_KEY_PREFIX}${randomBytes(32).toString("base64url")}`;
}

/**
 * What the store keeps of a key: its SHA-256, hex.
 *
 * @example
 * await store.findActiveApiKey(hashApiKey(presented));
 */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/** A new key's id, `key_` and 12 random bytes, base64url. */
export function newApiKeyId(): string {
  return `key_${randomBytes(12).toString("base64url")}`;
}

const INTEGRATION_PREFIX = /^\/v1\/integrations\/[^/]+(?=\/)/;
const ACCESS_TOKEN_RE = /^\/v1\/connections\/[^/]+\/access-token\/?$/;
const CONNECT_SESSIONS_RE = /^\/v1\/connect-sessions\/?$/;

/**
 * The scopes that may call a `/v1` route (admin may call all of them).
 *
 * @example
 * scopesFor("POST", "/v1/connect-sessions"); // ["admin", "connect"]
 */
export function scopesFor(method: string, fullPath: string): readonly ApiKeyScope[] {
  // `/v1/integrations/:id/…` is the same route of another integration.
  const path = fullPath.replace(INTEGRATION_PREFIX, "/v1");
  if (path === "/v1/proxy" || path.startsWith("/v1/proxy/")) return ["admin", "proxy"];
  if (method === "POST" && ACCESS_TOKEN_RE.test(path)) return ["admin", "proxy"];
  if (method === "POST" && CONNECT_SESSIONS_RE.test(path)) return ["admin", "connect"];
  return ["admin"];
}

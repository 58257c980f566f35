/**
 * Verifying Airlock's webhooks on the receiving side (Standard Webhooks: HMAC-SHA256 over
 * "webhook-id.webhook-timestamp.body", `v1,<base64>` signatures, `whsec_<base64>` secrets).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { AirlockError, type AirlockErrorCode } from "./errors.js";

/** Why a webhook was rejected. */
export type WebhookVerificationReason =
  | "missing_headers"
  | "invalid_timestamp"
  | "stale_timestamp"
  | "invalid_signature"
  | "invalid_secret"
  | "invalid_payload";

const CODE_BY_REASON: Record<WebhookVerificationReason, AirlockErrorCode> = {
  missing_headers: "invalid_input",
  invalid_timestamp: "invalid_input",
  stale_timestamp: "unauthorized",
  invalid_signature: "unauthorized",
  invalid_secret: "config_invalid",
  invalid_payload: "invalid_input",
};

/** Thrown by `verifyWebhook`; `reason` says which check failed. Answer the sender with 400. */
export class WebhookVerificationError extends AirlockError {
  readonly reason: WebhookVerificationReason;

  constructor(reason: WebhookVerificationReason, message: string, hint: string) {
    super(CODE_BY_REASON[reason], message, { hint, details: { reason } });
    this.reason = reason;
  }
}

/** Every event type the service sends (`AIRLOCK_WEBHOOK_EVENTS` picks which). */
export type AirlockWebhookEventType =
  | ConnectionWebhookEventType
  | "airtable.payloads"
  | "airtable.webhook_lost";

/** The events about a connection itself; their `data` is {@link ConnectionWebhookEventData}. */
export type ConnectionWebhookEventType =
  | "connection.created"
  | "connection.reauth_required"
  | "connection.recovered"
  | "connection.reconnected"
  | "connection.deleted"
  | "connection.refreshed"
  | "connection.refresh_failed";

/** A connection event's `data`: the identifier and what the event adds (`reason`, …). */
export interface ConnectionWebhookEventData {
  identifier: string;
  [key: string]: unknown;
}

/**
 * One payload as Airtable's "list webhook payloads" returns it, passed through untouched (see
 * https://airtable.com/developers/web/api/model/webhooks-payload); only its common keys are typed.
 */
export interface AirtableWebhookPayload {
  timestamp?: string;
  baseTransactionNumber?: number;
  payloadFormat?: string;
  actionMetadata?: { source?: string; sourceMetadata?: Record<string, unknown>; [key: string]: unknown };
  changedTablesById?: Record<string, unknown>;
  createdTablesById?: Record<string, unknown>;
  destroyedTableIds?: string[];
  /** Set (with `code`) on a payload that stands for an error Airtable hit, not a change. */
  error?: boolean;
  code?: string;
  [key: string]: unknown;
}

/**
 * `airtable.payloads`: one page (at most 50) of an Airtable webhook's payloads, numbered `cursor`
 * up to `next_cursor - 1`. A webhook's events arrive in cursor order: the next one is sent only
 * once this one is delivered.
 */
export interface AirtablePayloadsEventData {
  /** The connection's identifier. */
  identifier: string;
  /** Airlock's webhook id (`awh_…`), as `createAirtableWebhook` returned it. */
  webhook_id: string;
  /** Airtable's webhook id (`ach…`). */
  airtable_webhook_id: string;
  base_id: string;
  /** The number of the first payload in `payloads`. */
  cursor: number;
  /** The number after the last payload in `payloads`. */
  next_cursor: number;
  payloads: AirtableWebhookPayload[];
}

/** `airtable.webhook_lost`: Airtable no longer has the webhook (sent once); create a new one. */
export interface AirtableWebhookLostEventData {
  identifier: string;
  webhook_id: string;
  airtable_webhook_id: string;
  base_id: string;
  reason: "expired" | "deleted_upstream";
}

interface WebhookEventOf<T extends AirlockWebhookEventType, D> {
  /** Stable across retries: deduplicate on it. */
  id: string;
  type: T;
  /** ISO 8601 time the event happened (not when it was sent). */
  timestamp: string;
  data: D;
}

export type ConnectionWebhookEvent = WebhookEventOf<ConnectionWebhookEventType, ConnectionWebhookEventData>;
export type AirtablePayloadsEvent = WebhookEventOf<"airtable.payloads", AirtablePayloadsEventData>;
export type AirtableWebhookLostEvent = WebhookEventOf<"airtable.webhook_lost", AirtableWebhookLostEventData>;

/**
 * A verified event; switch on `type` to get its `data` typed. A newer service may send a type
 * this SDK version does not know yet: keep a `default` branch that ignores it.
 */
export type AirlockWebhookEvent = ConnectionWebhookEvent | AirtablePayloadsEvent | AirtableWebhookLostEvent;

/** Fetch `Headers`, Node's `IncomingHttpHeaders`, or a plain object (names are matched case-insensitively). */
export type WebhookHeaders =
  | { get(name: string): string | null }
  | Record<string, string | string[] | undefined>;

export interface VerifyWebhookOptions {
  /** Largest accepted distance between `webhook-timestamp` and now, either way (default 300). */
  toleranceSeconds?: number;
  now?: () => Date;
}

/**
 * Checks a webhook's signature and freshness, then parses it. Pass the body exactly as received
 * (raw bytes or string, before any JSON parsing). `secret` may be an array while you rotate secrets.
 *
 * @example
 * import { verifyWebhook } from "@airlock/client"; // or "airlock/client"
 * app.post("/hooks/airlock", express.raw({ type: "application/json" }), async (req, res) => {
 *   const event = verifyWebhook(process.env.AIRLOCK_WEBHOOK_SECRET!, req.headers, req.body);
 *   if (event.type === "connection.reauth_required") emailUser(event.data.identifier);
 *   if (event.type === "airtable.payloads") await applyChanges(event.data.base_id, event.data.payloads);
 *   res.sendStatus(204);
 * });
 */
export function verifyWebhook(
  secret: string | readonly string[],
  headers: WebhookHeaders,
  rawBody: string | Uint8Array,
  options: VerifyWebhookOptions = {},
): AirlockWebhookEvent {
  const id = header(headers, "webhook-id");
  const timestampText = header(headers, "webhook-timestamp");
  const signatureText = header(headers, "webhook-signature");
  if (!id || !timestampText || !signatureText) {
    throw new WebhookVerificationError(
      "missing_headers",
      "The request lacks webhook-id, webhook-timestamp or webhook-signature.",
      "Pass the request's headers unchanged; a proxy in front of your receiver may be stripping them.",
    );
  }
  if (!/^\d{1,15}$/.test(timestampText)) {
    throw new WebhookVerificationError(
      "invalid_timestamp",
      "webhook-timestamp is not a whole number of seconds.",
      "Pass the request's headers unchanged.",
    );
  }
  const toleranceSeconds = options.toleranceSeconds ?? 300;
  const nowSeconds = Math.floor((options.now?.() ?? new Date()).getTime() / 1000);
  if (Math.abs(nowSeconds - Number(timestampText)) > toleranceSeconds) {
    throw new WebhookVerificationError(
      "stale_timestamp",
      `webhook-timestamp is more than ${toleranceSeconds} seconds away from now.`,
      "Check this machine's clock (NTP); a replayed old request is also rejected this way.",
    );
  }

  const body = typeof rawBody === "string" ? Buffer.from(rawBody, "utf8") : Buffer.from(rawBody);
  const signed = Buffer.concat([Buffer.from(`${id}.${timestampText}.`, "utf8"), body]);
  const candidates = signatureText
    .split(" ")
    .filter((part) => part.startsWith("v1,"))
    .map((part) => Buffer.from(part.slice(3), "base64"));
  const secrets = typeof secret === "string" ? [secret] : secret;
  let matched = false;
  for (const key of secrets.map(decodeSecret)) {
    const expected = createHmac("sha256", key).update(signed).digest();
    for (const candidate of candidates) {
      // Constant-time compare; the length check leaks only the (public) digest size.
      if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) matched = true;
    }
  }
  if (!matched) {
    throw new WebhookVerificationError(
      "invalid_signature",
      "No webhook-signature matches this body and secret.",
      "Use the same AIRLOCK_WEBHOOK_SECRET as the service, and verify the raw body before parsing it.",
    );
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    throw new WebhookVerificationError(
      "invalid_payload",
      "The signed body is not JSON.",
      "Report this as a bug.",
    );
  }
  if (!isEventBody(parsed)) {
    throw new WebhookVerificationError(
      "invalid_payload",
      "The signed body is not an Airlock event ({type, timestamp, data.identifier}).",
      "Check that AIRLOCK_WEBHOOK_URL points at the receiver meant for Airlock.",
    );
  }
  return { id, ...parsed } as AirlockWebhookEvent;
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof headers.get === "function")
    return (headers as { get(n: string): string | null }).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  for (const [key, value] of Object.entries(record)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value.join(" ") : value;
  }
  return undefined;
}

function decodeSecret(secret: string): Buffer {
  const trimmed = secret.trim();
  // As the Standard Webhooks libraries do: optional whsec_ prefix, then base64.
  const encoded = trimmed.startsWith("whsec_") ? trimmed.slice("whsec_".length) : trimmed;
  const key = /^[A-Za-z0-9+/]+={0,2}$/.test(encoded) ? Buffer.from(encoded, "base64") : Buffer.alloc(0);
  if (key.length === 0) {
    throw new WebhookVerificationError(
      "invalid_secret",
      "The webhook secret is not base64 (whsec_<base64>).",
      "Pass the exact AIRLOCK_WEBHOOK_SECRET value the service uses.",
    );
  }
  return key;
}

/** The envelope only: `data` is the service's, typed by `type` (a newer type passes through). */
function isEventBody(
  value: unknown,
): value is { type: string; timestamp: string; data: ConnectionWebhookEventData } {
  if (typeof value !== "object" || value === null) return false;
  const body = value as Record<string, unknown>;
  const data = body.data as Record<string, unknown> | null | undefined;
  return (
    typeof body.type === "string" &&
    typeof body.timestamp === "string" &&
    typeof data === "object" &&
    data !== null &&
    typeof data.identifier === "string"
  );
}

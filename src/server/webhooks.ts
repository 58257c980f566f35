/**
 * Webhook delivery from the durable outbox, signed as Standard Webhooks
 * (https://www.standardwebhooks.com): `webhook-id`, `webhook-timestamp` and
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
 *
 * Events are written to the outbox in the same transaction as the state change (see the Store),
 * so an event is never lost between "status changed" and "webhook sent". Any number of instances
 * may run this loop at once: `claimOutbox` leases each item to one owner, and an owner that dies
 * mid-delivery simply lets the lease expire, after which another instance retries. Delivery is
 * therefore at least once: receivers deduplicate on `webhook-id`.
 */
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { AirlockError, errorCode } from "../shared/errors.js";
import type { Logger } from "../shared/log.js";
import type { Metrics } from "../shared/metrics.js";
import { DEFAULT_INTEGRATION } from "../store/index.js";
import type { OutboxItem, Store } from "../store/types.js";

/** Every event type Airlock emits. */
export const WEBHOOK_EVENT_TYPES = [
  "connection.created",
  "connection.reauth_required",
  "connection.recovered",
  "connection.reconnected",
  "connection.deleted",
  "connection.refreshed",
  "connection.refresh_failed",
  "airtable.payloads",
  "airtable.webhook_lost",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/**
 * Sent unless `AIRLOCK_WEBHOOK_EVENTS` says otherwise (`connection.refreshed` and
 * `connection.refresh_failed` are opt-in: they are chatty).
 */
export const DEFAULT_WEBHOOK_EVENTS: readonly WebhookEventType[] = [
  "connection.created",
  "connection.reauth_required",
  "connection.recovered",
  "connection.reconnected",
  "connection.deleted",
  "airtable.payloads",
  "airtable.webhook_lost",
];

const SECRET_PREFIX = "whsec_";

/**
 * Parses `AIRLOCK_WEBHOOK_EVENTS` (comma- or space-separated). Unset or empty → the defaults;
 * `+connection.refreshed` style is not needed: list exactly what you want, or `all`.
 */
export function parseWebhookEvents(value: string | undefined): Set<WebhookEventType> {
  const names = (value ?? "").split(/[\s,]+/).filter(Boolean);
  if (names.length === 0) return new Set(DEFAULT_WEBHOOK_EVENTS);
  if (names.length === 1 && names[0] === "all") return new Set(WEBHOOK_EVENT_TYPES);
  const known = new Set<string>(WEBHOOK_EVENT_TYPES);
  for (const name of names) {
    if (!known.has(name)) {
      throw new AirlockError("config_invalid", `AIRLOCK_WEBHOOK_EVENTS names an unknown event "${name}".`, {
        hint: `Use a comma-separated subset of: ${WEBHOOK_EVENT_TYPES.join(", ")} (or "all").`,
      });
    }
  }
  return new Set(names as WebhookEventType[]);
}

/**
 * Decodes a webhook secret into the HMAC key the way the Standard Webhooks libraries do: an optional
 * `whsec_` prefix, then base64. `whsec_` + base64 of 32 random bytes is the recommended form
 * (`generateWebhookSecret()`, or
 * `node -e "console.log('whsec_'+require('crypto').randomBytes(32).toString('base64'))"`); a hex
 * string such as `openssl rand -hex 32` also works, since hex digits are base64 characters.
 */
export function parseWebhookSecret(secret: string): Buffer {
  const hint =
    "Set AIRLOCK_WEBHOOK_SECRET to whsec_ followed by base64 of 32 random bytes: " +
    `node -e "console.log('whsec_'+require('crypto').randomBytes(32).toString('base64'))"`;
  const trimmed = secret.trim();
  const encoded = trimmed.startsWith(SECRET_PREFIX) ? trimmed.slice(SECRET_PREFIX.length) : trimmed;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) {
    throw new AirlockError("config_invalid", "The webhook secret is not base64 (whsec_<base64>).", { hint });
  }
  const key = Buffer.from(encoded, "base64");
  if (key.length < 12) {
    throw new AirlockError(
      "config_invalid",
      `The webhook secret decodes to only ${key.length} bytes; use at least 24 random bytes.`,
      { hint },
    );
  }
  return key;
}

/**
 * A new random secret in the Standard Webhooks format.
 */
export function generateWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString("base64")}`;
}

/**
 * The `webhook-signature` header value for one message.
 */
export function signWebhook(
  secret: string | Buffer,
  message: { id: string; timestamp: number; body: string },
) {
  const key = typeof secret === "string" ? parseWebhookSecret(secret) : secret;
  const mac = createHmac("sha256", key).update(`${message.id}.${message.timestamp}.${message.body}`);
  return `v1,${mac.digest("base64")}`;
}

/** Keys that must never appear in a payload, even if an event's data carried one by mistake. */
const FORBIDDEN_KEY = /token|secret|verifier|password|^code$|authorization/i;

/**
 * The JSON body of a webhook: `{type, timestamp, data: {identifier, integration, ...}}` with
 * secrets filtered out (`integration` is absent for the default one, as before there were several).
 */
export function webhookPayload(
  item: Pick<OutboxItem, "identifier" | "type" | "data" | "createdAt"> & { integration?: string },
) {
  const data: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(item.data ?? {})) {
    if (!FORBIDDEN_KEY.test(key)) data[key] = value;
  }
  return {
    type: item.type,
    timestamp: item.createdAt.toISOString(),
    data: {
      ...data,
      identifier: item.identifier,
      ...(item.integration && item.integration !== DEFAULT_INTEGRATION
        ? { integration: item.integration }
        : {}),
    },
  };
}

/**
 * Delay before the next attempt after `attempts` failures: exponential, capped, with "equal jitter"
 * (half fixed, half random) so a receiver coming back up is not hit by every instance at once.
 */
export function webhookBackoffMs(
  attempts: number,
  options: { baseMs?: number; maxMs?: number; random?: () => number } = {},
): number {
  const baseMs = options.baseMs ?? 1000;
  const maxMs = options.maxMs ?? 60 * 60 * 1000;
  const random = options.random ?? Math.random;
  const exponent = Math.min(Math.max(attempts, 1) - 1, 30);
  const ceiling = Math.min(maxMs, baseMs * 2 ** exponent);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export interface WebhookDeliveryOptions {
  store: Store;
  /** The receiver, `AIRLOCK_WEBHOOK_URL`. */
  url: string;
  /** `AIRLOCK_WEBHOOK_SECRET`, `whsec_<base64>`. */
  secret: string;
  metrics: Metrics;
  logger: Logger;
  now?: () => Date;
  /** How often an idle loop looks for due items (default 1000 ms). */
  pollIntervalMs?: number;
  /** This instance's lease owner name (default a random id). */
  owner?: string;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
  /** Items claimed and sent concurrently per round (default 20). */
  batchSize?: number;
  /** Retry schedule (defaults: 1 s doubling, capped at 1 h). */
  backoff?: { baseMs?: number; maxMs?: number };
  fetch?: typeof fetch;
}

export interface WebhookDelivery {
  /** Stops the loop and waits for in-flight deliveries to settle. */
  stop(): Promise<void>;
  /** One round: claims due items and delivers them; resolves to how many were attempted. */
  runOnce(): Promise<number>;
}

/**
 * Starts the outbox delivery loop. Safe on every instance at once.
 */
export function startWebhookDelivery(options: WebhookDeliveryOptions): WebhookDelivery {
  const sender = resolveSender(options);
  const runOnce = () => deliverRound(sender);
  const loop = startLoop(sender, runOnce);
  return { runOnce, stop: loop.stop };
}

/** The delivery options resolved once: the key, the receiver, the defaults filled in. */
interface Sender {
  key: Buffer;
  url: URL;
  store: Store;
  metrics: Metrics;
  log: Logger;
  now: () => Date;
  owner: string;
  pollIntervalMs: number;
  timeoutMs: number;
  batchSize: number;
  leaseMs: number;
  backoff: WebhookDeliveryOptions["backoff"];
  fetch: typeof fetch;
}

function resolveSender(options: WebhookDeliveryOptions): Sender {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    key: parseWebhookSecret(options.secret),
    url: parseReceiverUrl(options.url),
    store: options.store,
    metrics: options.metrics,
    log: options.logger.child({ component: "webhooks" }),
    now: options.now ?? (() => new Date()),
    owner: options.owner ?? `webhooks-${randomUUID()}`,
    pollIntervalMs: options.pollIntervalMs ?? 1000,
    timeoutMs,
    batchSize: options.batchSize ?? 20,
    // The lease must outlive one round (all items are sent in parallel, each bounded by the timeout).
    leaseMs: timeoutMs * 3,
    backoff: options.backoff,
    fetch: options.fetch ?? fetch,
  };
}

/** One round: claims due items and delivers them; resolves to how many were attempted. */
async function deliverRound(sender: Sender): Promise<number> {
  const { store, owner, batchSize, leaseMs, log } = sender;
  const items = await store.claimOutbox({ owner, now: sender.now(), limit: batchSize, leaseMs });
  await Promise.all(
    items.map((item) =>
      deliver(sender, item).catch((error: unknown) => {
        // A store error here leaves the lease to expire; another round retries the item.
        log.error({ event_id: item.id, error: describeNetworkError(error) }, "webhook bookkeeping failed");
      }),
    ),
  );
  return items.length;
}

/** Rounds until stopped; an idle round waits `pollIntervalMs`, a full batch goes again at once. */
function startLoop(sender: Sender, runOnce: () => Promise<number>): { stop(): Promise<void> } {
  let stopped = false;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (!stopped) {
      let attempted = 0;
      try {
        attempted = await runOnce();
      } catch (error) {
        sender.log.error({ error: describeNetworkError(error) }, "could not read the webhook outbox");
      }
      // A full batch means more may be waiting: go again at once.
      if (attempted >= sender.batchSize || stopped) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, sender.pollIntervalMs);
        timer.unref?.();
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  })();
  return {
    async stop() {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}

/** Sends one item; a failure is recorded with the next attempt's time. */
async function deliver(sender: Sender, item: OutboxItem): Promise<void> {
  const failure = await send(sender, item);
  if (failure !== null) await recordFailedDelivery(sender, item, failure);
}

/** Posts the signed item and marks it delivered on a 2xx; otherwise resolves to why it failed. */
async function send(sender: Sender, item: OutboxItem): Promise<string | null> {
  const { now, log } = sender;
  const body = JSON.stringify(webhookPayload(item));
  const timestamp = Math.floor(now().getTime() / 1000);
  const headers = {
    "content-type": "application/json",
    "user-agent": "airlock-webhooks/1",
    "webhook-id": item.id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": signWebhook(sender.key, { id: item.id, timestamp, body }),
  };
  const post = sender.fetch;
  try {
    const response = await post(sender.url, {
      method: "POST",
      headers,
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(sender.timeoutMs),
    });
    // The receiver's body does not matter; do not read a possibly large one.
    await response.body?.cancel().catch(() => undefined);
    if (response.status >= 200 && response.status < 300) {
      await sender.store.markOutboxDelivered(item.id, now());
      sender.metrics.webhookDeliveries.inc({ outcome: "delivered" });
      log.debug({ event_id: item.id, type: item.type, identifier: item.identifier }, "webhook delivered");
      return null;
    }
    return `HTTP ${response.status}`;
  } catch (error) {
    return describeNetworkError(error);
  }
}

async function recordFailedDelivery(sender: Sender, item: OutboxItem, failure: string): Promise<void> {
  // claimOutbox already counted this attempt.
  const attempts = Math.max(item.attempts, 1);
  const delayMs = webhookBackoffMs(attempts, sender.backoff);
  const nextAttemptAt = new Date(sender.now().getTime() + delayMs);
  await sender.store.markOutboxFailed(item.id, { nextAttemptAt, error: failure });
  sender.metrics.webhookDeliveries.inc({ outcome: "failed" });
  sender.log.warn(
    {
      event_id: item.id,
      type: item.type,
      identifier: item.identifier,
      attempts,
      error: failure,
      retry_in_ms: delayMs,
    },
    "webhook delivery failed; will retry",
  );
}

function parseReceiverUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new AirlockError("config_invalid", "AIRLOCK_WEBHOOK_URL is not a valid URL.", {
      hint: "Set it to the absolute http(s) URL of your receiver, e.g. https://example.com/hooks/airlock.",
    });
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new AirlockError(
      "config_invalid",
      `AIRLOCK_WEBHOOK_URL uses ${url.protocol}; only http(s) works.`,
      {
        hint: "Use an https:// URL (http:// is fine for a receiver on localhost).",
      },
    );
  }
  return url;
}

/** A short, secret-free description of why a request failed (no URLs, no headers). */
function describeNetworkError(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === "TimeoutError" || error.name === "AbortError") return "timeout";
    return errorCode(error.cause) ?? errorCode(error) ?? error.name;
  }
  return "unknown error";
}

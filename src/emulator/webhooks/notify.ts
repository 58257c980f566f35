/**
 * Notification pings: a small signed POST to the webhook's notificationUrl saying "there are new
 * payloads", and the result Airtable records as `lastNotificationResult`.
 */
import { createHmac } from "node:crypto";

/** Airtable's "Webhooks notification" object. */
export type NotificationResult =
  | { success: true; completionTimestamp: string; durationMs: number; retryNumber: number }
  | {
      success: false;
      error: { message: string };
      completionTimestamp: string;
      durationMs: number;
      retryNumber: number;
      willBeRetried: boolean;
    };

export interface Ping {
  url: string;
  baseId: string;
  webhookId: string;
  macSecret: Buffer;
  /** ISO time of the ping (the emulator clock). */
  timestamp: string;
}

/** How long a receiver may take to answer before the ping counts as failed. */
const PING_TIMEOUT_MS = 10_000;

/** `hmac-sha256=<hex>` of the raw body, keyed by the decoded macSecretBase64. */
export function contentMac(macSecret: Buffer, body: string): string {
  return `hmac-sha256=${createHmac("sha256", macSecret).update(body, "utf8").digest("hex")}`;
}

/** Why a delivery failed, in a line (never the receiver's body: it is not ours to echo). */
function failureMessage(err: unknown): string {
  if (err instanceof Error && err.name === "TimeoutError") return `No answer within ${PING_TIMEOUT_MS} ms.`;
  return `The request failed: ${err instanceof Error ? err.message : String(err)}`;
}

/**
 * POSTs `{base: {id}, webhook: {id}, timestamp}` with X-Airtable-Content-MAC; a 200 or 204 is a
 * success, anything else a failure. Never throws. The emulator tries once, so willBeRetried is false.
 *
 * @param now the emulator clock, for completionTimestamp.
 */
export async function sendPing(ping: Ping, now: () => number): Promise<NotificationResult> {
  const body = JSON.stringify({
    base: { id: ping.baseId },
    webhook: { id: ping.webhookId },
    timestamp: ping.timestamp,
  });
  const started = performance.now();
  let error: string | undefined;
  try {
    const res = await fetch(ping.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-airtable-content-mac": contentMac(ping.macSecret, body),
      },
      body,
      signal: AbortSignal.timeout(PING_TIMEOUT_MS),
    });
    await res.body?.cancel();
    if (res.status !== 200 && res.status !== 204) error = `The notification URL answered HTTP ${res.status}.`;
  } catch (err) {
    error = failureMessage(err);
  }
  const timing = {
    completionTimestamp: new Date(now()).toISOString(),
    durationMs: Math.round(performance.now() - started),
    retryNumber: 0,
  };
  return error === undefined
    ? { success: true, ...timing }
    : { success: false, error: { message: error }, ...timing, willBeRetried: false };
}

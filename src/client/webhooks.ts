/**
 * Webhook verification (Standard Webhooks) lives in `@airlock/client`; this module keeps the
 * in-repo path `src/client/webhooks.js` for the service's tests.
 *
 * @example
 * import { verifyWebhook } from "airlock/client";
 * const event = verifyWebhook(process.env.AIRLOCK_WEBHOOK_SECRET!, req.headers, rawBody);
 */
export {
  type AirlockWebhookEvent,
  type AirtablePayloadsEvent,
  type AirtableWebhookLostEvent,
  type ConnectionWebhookEvent,
  type VerifyWebhookOptions,
  verifyWebhook,
  type WebhookHeaders,
  WebhookVerificationError,
  type WebhookVerificationReason,
} from "@airlock/client";

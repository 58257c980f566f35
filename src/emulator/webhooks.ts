/**
 * Airtable webhooks under `webhook:manage`: create, list, delete, refresh, notifications, payloads
 * (handlers in webhooks/routes.ts, state in webhooks/hub.ts), and the control API's ping trigger.
 */
import type { Hono } from "hono";
import type { ApiEnv } from "./api-context.js";
import type { EmulatorState } from "./state.js";
import { webhookHubFor } from "./webhooks/hub.js";
import {
  createWebhook,
  deleteWebhook,
  enableNotifications,
  listPayloads,
  listWebhooks,
  refreshWebhook,
} from "./webhooks/routes.js";

export { webhookHubFor } from "./webhooks/hub.js";

const WEBHOOKS = "/v0/bases/:baseId/webhooks";
const WEBHOOK = `${WEBHOOKS}/:webhookId`;

/** Registers the webhook routes on the /v0 app; the hub starts listening to changes now. */
export function webhookRoutes(routes: Hono<ApiEnv>, state: EmulatorState): void {
  const hub = webhookHubFor(state);
  routes.post(WEBHOOKS, (c) => createWebhook(c, state, hub));
  routes.get(WEBHOOKS, (c) => listWebhooks(c, state, hub));
  routes.delete(WEBHOOK, (c) => deleteWebhook(c, state, hub));
  routes.post(`${WEBHOOK}/refresh`, (c) => refreshWebhook(c, state, hub));
  routes.post(`${WEBHOOK}/enableNotifications`, (c) => enableNotifications(c, state, hub));
  routes.get(`${WEBHOOK}/payloads`, (c) => listPayloads(c, state, hub));
}

/**
 * Registers `POST /webhooks/:webhookId/ping` on the control app (mounted at /__emulator): pings the
 * webhook's notificationUrl now, whoever owns it, and answers with the recorded result. Refuses an
 * unknown id (404), a webhook without a notificationUrl or one that has expired (409).
 */
export function webhookControlRoutes(control: Hono, state: EmulatorState): void {
  const hub = webhookHubFor(state);
  control.post("/webhooks/:webhookId/ping", async (c) => {
    const id = c.req.param("webhookId");
    const webhook = hub.byId(id);
    if (!webhook) return c.json({ error: "not_found", message: `No webhook ${id}.` }, 404);
    if (!hub.isActive(webhook))
      return c.json({ error: "webhook_expired", message: `Webhook ${id} has expired.` }, 409);
    const notification = await hub.ping(webhook);
    if (!notification)
      return c.json({ error: "no_notification_url", message: `Webhook ${id} has no notificationUrl.` }, 409);
    return c.json({ webhook_id: id, notification });
  });
}

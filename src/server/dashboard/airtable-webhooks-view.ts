/**
 * The "Airtable webhooks" section of a connection's page: every webhook Airlock keeps for the
 * connection as the API shows it (`airtableWebhookToJson`, so `paused` means the same here as
 * there), with its expiry, last ping, cursor and whether its payloads reached the receiver. With
 * none, one line naming the route that creates one. Hono's `html` tag escapes every value.
 */
import type { z } from "@hono/zod-openapi";
import { html } from "hono/html";
import type { AirtableWebhookDelivery, AirtableWebhookRecord, ConnectionStatus } from "../../store/types.js";
import { type AirtableWebhookSchema, airtableWebhookToJson } from "../airtable-webhooks/schemas.js";
import type { Html } from "../html-document.js";
import { expiry, time } from "./views.js";

type WebhookJson = z.infer<typeof AirtableWebhookSchema>;
type WebhookStatus = WebhookJson["status"];

/** The badge of each status: its words, and the badge colour it borrows from connections'. */
const STATUS_BADGE: Record<WebhookStatus, { label: string; tone: string; hint: string }> = {
  creating: { label: "Creating", tone: "none", hint: "Airtable is being asked to create it." },
  active: {
    label: "Active",
    tone: "active",
    hint: "Refreshed daily; its payloads are fetched on every ping.",
  },
  paused: {
    label: "Paused",
    tone: "reauth_required",
    hint: "The connection is not active; it resumes after a reconnect.",
  },
  expired: {
    label: "Expired",
    tone: "revoked",
    hint: "Airtable disabled it; create a new one (airtable.webhook_lost was sent).",
  },
  deleted_upstream: {
    label: "Deleted on Airtable",
    tone: "revoked",
    hint: "Airtable no longer has it; create a new one (airtable.webhook_lost was sent).",
  },
};

const dateOrNull = (iso: string | null) => (iso === null ? null : new Date(iso));
const muted = (text: string) => html`<span class="muted">${text}</span>`;

/** The connection's webhooks as the API's JSON (`GET …/airtable-webhooks` answers the same). */
export function airtableWebhookViews(
  webhooks: Array<AirtableWebhookRecord & { delivery: AirtableWebhookDelivery }>,
  connectionStatus: ConnectionStatus,
): WebhookJson[] {
  return webhooks.map((w) => airtableWebhookToJson(w, w.delivery, connectionStatus));
}

function statusCell(w: WebhookJson): Html {
  const badge = STATUS_BADGE[w.status];
  return html`<span class="badge ${badge.tone}" title="${w.status}: ${badge.hint}">${badge.label}</span>${
    w.last_error ? html`<span class="sub">Last error: ${w.last_error}</span>` : null
  }`;
}

function deliveryCell(delivery: WebhookJson["delivery"]): Html {
  if (delivery.pending === 0) return html`delivered`;
  const events = delivery.pending === 1 ? "1 event" : `${delivery.pending} events`;
  return html`${events} pending${delivery.last_error ? html`<span class="sub">Last attempt: ${delivery.last_error}</span>` : null}`;
}

function webhookRow(w: WebhookJson, now: Date): Html {
  const expires = dateOrNull(w.expiration_time);
  return html`<tr data-webhook-id="${w.id}">
<td><code>${w.id}</code><span class="sub mono">${w.airtable_webhook_id ?? "not on Airtable yet"}</span></td>
<td><code>${w.base_id}</code></td>
<td class="status-cell">${statusCell(w)}</td>
<td class="nowrap">${expires ? expiry(expires, now) : muted("—")}</td>
<td class="nowrap">${time(dateOrNull(w.last_ping_at), now)}</td>
<td class="mono" title="The number of the next payload Airlock fetches">${w.cursor}</td>
<td>${deliveryCell(w.delivery)}</td>
</tr>`;
}

/**
 * The section itself.
 */
export function airtableWebhooksSection(identifier: string, webhooks: WebhookJson[], now: Date): Html {
  const route = `POST /v1/connections/${encodeURIComponent(identifier)}/airtable-webhooks`;
  const body =
    webhooks.length === 0
      ? html`<p class="lede">No Airtable webhooks. Create one with <code class="ident">${route}</code> and a body of <code>{"base_id", "specification"}</code>; its payloads arrive at AIRLOCK_WEBHOOK_URL as <code>airtable.payloads</code> events.</p>`
      : html`<div class="table-wrap">
<table>
<thead><tr><th scope="col">Webhook</th><th scope="col">Base</th><th scope="col">Status</th><th scope="col">Expires</th><th scope="col">Last ping</th><th scope="col">Cursor</th><th scope="col">Delivery</th></tr></thead>
<tbody>
${webhooks.map((w) => webhookRow(w, now))}
</tbody>
</table>
</div>
<div class="mt"><p class="lede">Cursor is the number of the next payload Airlock fetches; delivery counts the <code>airtable.payloads</code> events your receiver (AIRLOCK_WEBHOOK_URL) has not accepted yet.</p></div>`;
  return html`<section aria-labelledby="airtable-webhooks-heading">
<h2 id="airtable-webhooks-heading">Airtable webhooks</h2>
${body}
</section>`;
}

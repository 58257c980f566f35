/**
 * `/integrations`: the Airtable OAuth integrations this deployment acts for (issue 12), each with
 * its client id, scopes, redirect URI, its connections by status, and the links to its pages and
 * API routes. `default` is the AIRTABLE_* one; more come from AIRLOCK_INTEGRATIONS_FILE.
 */
import type { Context, Hono } from "hono";
import { html } from "hono/html";
import type { ConnectionCounts } from "../../store/types.js";
import { CALLBACK_PATH } from "../config.js";
import type { Integration } from "../integrations.js";
import { type DashboardContext, integrationBase, render } from "./dashboard-context.js";
import { type SignedInEnv, signedIn } from "./guards.js";
import { type Html, layout } from "./views.js";

const SOURCE_LABEL = {
  environment: "AIRTABLE_*",
  file: "AIRLOCK_INTEGRATIONS_FILE",
  api: "the API",
} as const;

/** Mounts `GET /integrations`. */
export function integrationsPageRoutes(app: Hono, d: DashboardContext): void {
  app.get("/integrations", signedIn(d), (c) => showIntegrations(d, c));
}

async function showIntegrations(d: DashboardContext, c: Context<SignedInEnv>): Promise<Response> {
  // Fresh: another instance may have created or deleted one through the API.
  await d.ctx.integrations.sync();
  const integrations = d.ctx.integrations.list();
  const counts = await Promise.all(integrations.map((i) => i.store.countConnectionsByStatus()));
  const redirectUri = `${d.ctx.config.publicUrl}${CALLBACK_PATH}`;
  const chrome = { ...d.chrome("Integrations", c.var.session), section: "integrations" as const };
  return render(
    c,
    layout(
      chrome,
      html`<div class="head"><div><h1>Integrations</h1>
<p class="lede">The Airtable OAuth integrations this deployment connects users with. A connection belongs to one: the same identifier on two integrations is two connections.</p></div></div>
<div class="table-wrap">
<table>
<caption class="sr-only">Integrations</caption>
<thead><tr><th scope="col">Integration</th><th scope="col">Client id</th><th scope="col">Scopes</th><th scope="col">Configured by</th><th scope="col">Connections</th><th scope="col">API routes</th></tr></thead>
<tbody>
${integrations.map((integration, i) => row(integration, counts[i]))}
</tbody>
</table>
</div>
<p class="help">Every integration redirects to <code>${redirectUri}</code>: register exactly that URI with each one on Airtable. Add integrations in the JSON file <code>AIRLOCK_INTEGRATIONS_FILE</code> names (then restart), or with <code>POST /v1/integrations</code>.</p>`,
    ),
  );
}

function row(integration: Integration, counts: ConnectionCounts | undefined): Html {
  const base = integrationBase(integration.id);
  const total = counts ? counts.active + counts.reauth_required + counts.revoked : 0;
  return html`<tr>
<td><a href="${base || "/"}"><strong>${integration.name}</strong></a> <span class="muted">${integration.id}</span></td>
<td><code>${integration.clientId}</code></td>
<td>${integration.scopes.map((scope) => html`<code>${scope}</code> `)}</td>
<td>${SOURCE_LABEL[integration.source]}</td>
<td class="nowrap">${total} <span class="muted">(${counts?.active ?? 0} active)</span></td>
<td><code>/v1/integrations/${integration.id}/…</code></td>
</tr>`;
}

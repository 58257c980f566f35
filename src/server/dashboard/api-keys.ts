/**
 * The API keys page (`/api-keys`, issue 12): the named keys with their scope and last use, a form
 * that creates one (its key shown once, on the page the POST answers with) and a Revoke button per
 * active key. Every POST is behind the CSRF guard; the list's URL can always be reopened.
 */
import type { Context, Hono } from "hono";
import { html } from "hono/html";
import type { ApiKeyRecord } from "../../store/types.js";
import { API_KEY_SCOPES } from "../api-key-scopes.js";
import { ApiKeyRequestSchema, createApiKey, revokeApiKey } from "../api-keys.js";
import { type DashboardContext, render } from "./dashboard-context.js";
import { checkedForm, type FormEnv, type SignedInEnv, signedIn } from "./guards.js";
import type { DashboardSession } from "./session.js";
import { type Chrome, csrfInput, type Html, layout, type Notice, notice, time } from "./views.js";

const SCOPE_HELP: Record<(typeof API_KEY_SCOPES)[number], string> = {
  admin: "everything under /v1, like AIRLOCK_SECRET_KEY",
  connect: "only POST /v1/connect-sessions",
  proxy: "only /v1/proxy/* and POST /v1/connections/:identifier/access-token",
};

const KEY_ID_RE = /^key_[A-Za-z0-9_-]{1,64}$/;

/**
 * Mounts `GET /api-keys`, `POST /api-keys` and `POST /api-keys/:id/revoke`.
 *
 * @example
 * apiKeyPageRoutes(app, d);
 */
export function apiKeyPageRoutes(app: Hono, d: DashboardContext): void {
  app.get("/api-keys", signedIn(d), (c) => showKeys(d, c));
  app.post("/api-keys", checkedForm(d, "user"), (c) => createKey(d, c));
  app.post("/api-keys/:id/revoke", checkedForm(d, "user"), (c) => revokeKey(d, c));
}

function chrome(d: DashboardContext, title: string, session: DashboardSession): Chrome {
  return { ...d.chrome(title, session), section: "api-keys" };
}

async function showKeys(d: DashboardContext, c: Context<SignedInEnv>): Promise<Response> {
  const revoked = c.req.query("revoked");
  const shown: Notice | null =
    revoked && KEY_ID_RE.test(revoked)
      ? { kind: "ok", message: `Revoked ${revoked}: every instance refuses it from now on.` }
      : null;
  return render(c, await listPage(d, c.var.session, shown, null));
}

async function listPage(
  d: DashboardContext,
  session: DashboardSession,
  shown: Notice | null,
  form: { name: string; scope: string } | null,
): Promise<Html> {
  const keys = await d.ctx.store.listApiKeys();
  return keysPage(chrome(d, "API keys", session), {
    csrf: d.sessions().csrfToken(session),
    keys,
    notice: shown,
    form,
  });
}

async function createKey(d: DashboardContext, c: Context<FormEnv>): Promise<Response> {
  const { form, session } = c.var;
  const name = typeof form.name === "string" ? form.name : "";
  const scope = typeof form.scope === "string" ? form.scope : "";
  const parsed = ApiKeyRequestSchema.safeParse({ name, scope });
  if (!parsed.success) {
    const field = parsed.error.issues[0]?.path[0] === "scope" ? "scope" : "name";
    const refused: Notice = {
      kind: "error",
      message: field === "name" ? "The name must be 1 to 100 printable characters." : "Choose a scope.",
      hint: "Correct the form and create the key again.",
    };
    return render(c, await listPage(d, session, refused, { name, scope }), 400);
  }
  const created = await createApiKey(d.ctx, parsed.data);
  return render(c, createdPage(chrome(d, "New API key", session), created));
}

async function revokeKey(d: DashboardContext, c: Context<FormEnv>): Promise<Response> {
  const id = c.req.param("id") ?? "";
  if (!KEY_ID_RE.test(id) || !(await d.ctx.store.listApiKeys()).some((k) => k.id === id)) {
    const missing: Notice = {
      kind: "error",
      message: `There is no API key ${id}.`,
      hint: "Pick one from the list.",
    };
    return render(c, await listPage(d, c.var.session, missing, null), 404);
  }
  await revokeApiKey(d.ctx, id);
  return c.redirect(`/api-keys?revoked=${encodeURIComponent(id)}`, 303);
}

interface KeysView {
  csrf: string;
  keys: ApiKeyRecord[];
  notice: Notice | null;
  form: { name: string; scope: string } | null;
}

function keysPage(page: Chrome, view: KeysView): Html {
  const selected = view.form?.scope ?? "proxy";
  return layout(
    page,
    html`<div class="head"><div><h1>API keys</h1>
<p class="lede">Named keys for your backends, besides AIRLOCK_SECRET_KEY. Each has a scope; only its hash is stored. To rotate one without downtime: create the new key, switch the clients to it, then revoke the old one.</p></div></div>
${notice(view.notice)}
<section class="card" aria-labelledby="new-key-heading">
<h2 id="new-key-heading">New API key</h2>
<form method="post" action="/api-keys">
${csrfInput(view.csrf)}
<label for="key-name">Name</label>
<input id="key-name" name="name" type="text" required maxlength="100" placeholder="billing workers" value="${view.form?.name ?? ""}" autocomplete="off">
<fieldset>
<legend>Scope</legend>
<div class="checks">
${API_KEY_SCOPES.map(
  (scope) =>
    html`<label for="scope-${scope}"><input type="radio" id="scope-${scope}" name="scope" value="${scope}"${selected === scope ? html` checked` : null}> <code>${scope}</code>: ${SCOPE_HELP[scope]}</label>`,
)}
</div>
</fieldset>
<div class="actions"><button type="submit">Create API key</button></div>
</form>
</section>
${keysTable(page, view)}`,
  );
}

function keysTable(page: Chrome, view: KeysView): Html {
  if (view.keys.length === 0) return html`<p class="muted">No API keys yet.</p>`;
  return html`<div class="table-wrap">
<table>
<caption class="sr-only">API keys</caption>
<thead><tr>
<th scope="col">Name</th><th scope="col">Id</th><th scope="col">Scope</th><th scope="col">Created</th>
<th scope="col">Last used</th><th scope="col">Status</th>
</tr></thead>
<tbody>
${view.keys.map(
  (key) => html`<tr>
<td>${key.name}</td><td class="mono">${key.id}</td><td><code>${key.scope}</code></td>
<td>${time(key.createdAt, page.now)}</td><td>${time(key.lastUsedAt, page.now)}</td>
<td>${
    key.revokedAt
      ? html`Revoked ${time(key.revokedAt, page.now)}`
      : html`<form class="inline" method="post" action="/api-keys/${key.id}/revoke">${csrfInput(view.csrf)}<button class="danger" type="submit" aria-label="Revoke ${key.name}">Revoke</button></form>`
  }</td>
</tr>`,
)}
</tbody>
</table>
</div>`;
}

function createdPage(page: Chrome, created: { id: string; name: string; scope: string; key: string }): Html {
  return layout(
    page,
    html`<p><a href="/api-keys">← API keys</a></p>
<h1>API key “${created.name}”</h1>
<section class="card" aria-labelledby="key-heading">
<h2 id="key-heading">Key</h2>
<div class="link-box">
<label class="sr-only" for="api-key">API key</label>
<input id="api-key" type="text" readonly value="${created.key}">
<button class="secondary" type="button" data-copy="api-key">Copy</button>
</div>
<p class="help">Scope <code>${created.scope}</code>, id <span class="mono">${created.id}</span>. This is the only time the key is shown: store it now. Send it as <code>Authorization: Bearer &lt;key&gt;</code>.</p>
<div class="actions"><a class="button secondary" href="/api-keys">Back to API keys</a></div>
</section>`,
  );
}

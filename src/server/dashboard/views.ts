/**
 * The dashboard's pages as plain server-rendered HTML (Hono's `html` template tag escapes every
 * interpolated value). Each page is a function from data to markup; no page does I/O.
 */
import { html } from "hono/html";
import type { ConnectionStatus, ConnectionSummary, EventRecord } from "../../store/types.js";
import { type Html, htmlDocument } from "../html-document.js";
import { ASSET_VERSION } from "./assets.js";
import { absoluteTime, reasonText, relativeTime, statusLabel } from "./format.js";
import { CSRF_FIELD } from "./session.js";
import type { BaseSummary, Problem, RecordSummary, TableSummary } from "./try-it.js";

export type { Html };

export interface Chrome {
  title: string;
  /**
   * Set in demo mode: the banner names the emulator; `keyFile` is the file the secret key is kept in
   * (null when the key came from AIRLOCK_SECRET_KEY instead).
   */
  demo: { emulatorUrl: string; keyFile?: string | null } | null;
  /** The CSRF token of a signed-in session (shows the nav and the sign-out button), else null. */
  csrf: string | null;
  now: Date;
  /** The nav entry marked current (default Connections). */
  section?: "connections" | "integrations" | "api-keys" | undefined;
  /** The prefix of this integration's pages: "" for the default one, else `/integrations/<id>`. */
  base: string;
  /** Every integration, for the switcher above the connections (shown when there are several). */
  integrations: Array<{ id: string; name: string; base: string }>;
}

/** A message at the top of a page: what happened, and for errors what to do. */
export interface Notice {
  kind: "ok" | "error" | "warn";
  message: string;
  hint?: string | undefined;
}

/** A connection's page: `base` is its integration's prefix ("" for the default integration). */
const connectionHref = (base: string, identifier: string) =>
  `${base}/connections/${encodeURIComponent(identifier)}`;

/** An identifier in running text or a heading: it wraps anywhere rather than widening the page. */
function ident(identifier: string): Html {
  return html`<span class="ident">${identifier}</span>`;
}

/** The hidden CSRF field every dashboard form carries. */
export function csrfInput(token: string): Html {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${token}">`;
}

/** A page with the dashboard's banner, header, nav and main. */
export function layout(chrome: Chrome, body: Html, options: { narrow?: boolean } = {}): Html {
  return htmlDocument({
    title: chrome.title,
    head: html`<link rel="stylesheet" href="/assets/dashboard.css?v=${ASSET_VERSION.css}">
<script src="/assets/dashboard.js?v=${ASSET_VERSION.js}" defer></script>`,
    body: html`<a class="skip" href="#main">Skip to content</a>
${
  chrome.demo
    ? html`<div class="demo" role="note"><strong>Demo mode:</strong> connected to the built-in Airtable emulator at <code>${chrome.demo.emulatorUrl}</code>. No real Airtable account is involved; set <code>AIRTABLE_CLIENT_ID</code> to use Airtable.</div>`
    : null
}
<header class="top">
<a class="brand" href="/">Air<span>lock</span></a>
${
  chrome.csrf
    ? html`<nav aria-label="Main"><a href="/"${chrome.section === undefined || chrome.section === "connections" ? html` aria-current="page"` : null}>Connections</a> <a href="/integrations"${chrome.section === "integrations" ? html` aria-current="page"` : null}>Integrations</a> <a href="/api-keys"${chrome.section === "api-keys" ? html` aria-current="page"` : null}>API keys</a></nav>
<form class="inline" method="post" action="/logout">${csrfInput(chrome.csrf)}<button class="link" type="submit">Sign out</button></form>`
    : html`<nav aria-label="Main"></nav>`
}
</header>
<main id="main"${options.narrow ? html` class="narrow"` : null}>
${body}
</main>`,
  });
}

/** A notice box, or nothing. */
export function notice(n: Notice | null | undefined): Html | null {
  if (!n) return null;
  return html`<div class="notice ${n.kind}" role="${n.kind === "error" ? "alert" : "status"}">
<p>${n.message}</p>${n.hint ? html`<p>${n.hint}</p>` : null}
</div>`;
}

function problemNotice(problem: Problem): Html {
  const who =
    problem.source === "airtable" ? "Airtable" : problem.source === "airlock" ? "Airlock" : "Network";
  return html`<div class="notice error" role="alert">
<p><strong>${who} said ${problem.code}${problem.status ? html` (HTTP ${problem.status})` : null}:</strong> ${problem.message}</p>
${problem.hint ? html`<p>${problem.hint}</p>` : null}
</div>`;
}

/** A moment as "3 minutes ago" with the exact time in its title; "never" for null. */
export function time(date: Date | null, now: Date): Html {
  if (!date) return html`<span class="muted">never</span>`;
  return html`<time datetime="${date.toISOString()}" title="${absoluteTime(date)}">${relativeTime(date, now)}</time>`;
}

/** An expiry: "in 58 minutes", or "expired 3 minutes ago" once past. */
export function expiry(date: Date, now: Date): Html {
  return date.getTime() > now.getTime() ? time(date, now) : html`expired ${time(date, now)}`;
}

function badge(status: ConnectionStatus): Html {
  return html`<span class="badge ${status}">${statusLabel(status)}</span>`;
}

function scopeChips(scopes: string[]): Html {
  return html`<ul class="chips" aria-label="Scopes">${scopes.map((s) => html`<li>${s}</li>`)}</ul>`;
}

/** The longest metadata shown, in characters of pretty JSON; the API has it whole. */
const METADATA_SHOWN = 1500;

/** The connection's metadata as pretty JSON (escaped like every value), cut at METADATA_SHOWN. */
function metadataFacts(metadata: ConnectionSummary["metadata"]): Html {
  if (metadata === null) return html`<dt>Metadata</dt><dd><span class="muted">none</span></dd>`;
  const pretty = JSON.stringify(metadata, null, 2);
  const cut = pretty.length > METADATA_SHOWN;
  return html`<dt>Metadata</dt><dd><pre class="mono metadata">${cut ? `${pretty.slice(0, METADATA_SHOWN)}…` : pretty}</pre>${cut ? html`<span class="sub">Truncated: GET /v1/connections/:identifier returns all of it.</span>` : null}</dd>`;
}

function airtableUser(c: ConnectionSummary): Html {
  if (!c.airtableUserId && !c.email) return html`<span class="muted">unknown</span>`;
  return html`${c.email ? html`${c.email}` : html`<span class="muted">email not shared</span>`}<span class="sub mono">${c.airtableUserId ?? ""}</span>`;
}

/**
 * The sign-in form (secret key).
 */
export function signInPage(chrome: Chrome, view: { csrf: string; error: Notice | null }): Html {
  return layout(
    chrome,
    html`<h1>Sign in</h1>
<p class="lede">Enter the service's secret key, <code>AIRLOCK_SECRET_KEY</code>. In demo mode <code>airlock serve</code> prints it when it starts.</p>
${
  chrome.demo?.keyFile
    ? html`<p class="lede" id="key-file">This demo's key is kept in <code class="ident">${chrome.demo.keyFile}</code> (its <code>secret_key</code>).</p>`
    : null
}
${notice(view.error)}
<form class="card" method="post" action="/login">
${csrfInput(view.csrf)}
<label for="secret_key">Secret key</label>
<input id="secret_key" name="secret_key" type="password" autocomplete="current-password" required autofocus
  ${view.error ? html`aria-invalid="true" aria-describedby="key-help"` : html`aria-describedby="key-help"`}>
<p class="help" id="key-help">The same key your backend sends as <code>Authorization: Bearer …</code>.</p>
<div class="actions"><button type="submit">Sign in</button></div>
</form>`,
    { narrow: true },
  );
}

export interface ConnectionsView {
  csrf: string;
  connections: ConnectionSummary[];
  counts: Record<ConnectionStatus, number>;
  status: ConnectionStatus | null;
  nextCursor: string | null;
  /** The integration's scopes (AIRTABLE_SCOPES): the choices in "New connection". */
  scopes: string[];
  notice: Notice | null;
  /** The "New connection" form's values after a validation error. */
  form: { identifier: string; scopes: string[] } | null;
}

/**
 * The connections table with the "New connection" form.
 */
/** "Integration: Default · Read-only", when the deployment has several. */
function integrationSwitcher(chrome: Chrome): Html | null {
  if (chrome.integrations.length < 2) return null;
  return html`<nav aria-label="Integration"><ul class="filters">
${chrome.integrations.map(
  (i) =>
    html`<li><a href="${i.base || "/"}"${i.base === chrome.base ? html` aria-current="page"` : null}>${i.name} <span class="muted">${i.id}</span></a></li>`,
)}
</ul></nav>`;
}

export function connectionsPage(chrome: Chrome, view: ConnectionsView): Html {
  const total = view.counts.active + view.counts.reauth_required + view.counts.revoked;
  const checked = new Set(view.form?.scopes ?? view.scopes);
  const filters: Array<[ConnectionStatus | null, string, number]> = [
    [null, "All", total],
    ["active", "Active", view.counts.active],
    ["reauth_required", "Reconnect needed", view.counts.reauth_required],
    ["revoked", "Revoked", view.counts.revoked],
  ];
  return layout(
    chrome,
    html`<div class="head"><div><h1>Connections</h1>
<p class="lede">Each connection is one end user's Airtable authorization. Airlock keeps its tokens fresh and encrypted.</p></div></div>
${notice(view.notice)}
<section class="card" aria-labelledby="new-heading">
<h2 id="new-heading">New connection</h2>
${integrationSwitcher(chrome)}
<form method="post" action="${chrome.base}/connections">
${csrfInput(view.csrf)}
<label for="identifier">Identifier</label>
<input id="identifier" name="identifier" type="text" required pattern="[A-Za-z0-9][A-Za-z0-9._:@+\\-]*"
  placeholder="user_123" value="${view.form?.identifier ?? ""}" aria-describedby="identifier-help" autocomplete="off" spellcheck="false">
<p class="help" id="identifier-help">Your id for the end user, e.g. their user id in your app. Up to 255 letters, digits and <code>. _ : @ + -</code>. An existing identifier is reconnected in place.</p>
<fieldset>
<legend>Scopes</legend>
<div class="checks">
${view.scopes.map(
  (scope, i) =>
    html`<label for="scope-${i}"><input type="checkbox" id="scope-${i}" name="scopes" value="${scope}"${checked.has(scope) ? html` checked` : null}> <code>${scope}</code></label>`,
)}
</div>
</fieldset>
<div class="actions"><button type="submit">Create connect link</button></div>
</form>
</section>
<nav aria-label="Filter by status"><ul class="filters">
${filters.map(
  ([status, label, count]) =>
    html`<li><a href="${chrome.base || "/"}${status ? `?status=${status}` : ""}"${view.status === status ? html` aria-current="page"` : null}>${label} <span class="muted">${count}</span></a></li>`,
)}
</ul></nav>
<div class="table-wrap">
<table>
<caption class="sr-only">Connections${view.status ? ` with status ${statusLabel(view.status)}` : ""}</caption>
<thead><tr>
<th scope="col">Identifier</th><th scope="col">Airtable user</th><th scope="col">Status</th><th scope="col">Scopes</th>
<th scope="col">Access expires</th><th scope="col">Refresh expires</th><th scope="col">Last refresh</th>
</tr></thead>
<tbody>
${
  view.connections.length === 0
    ? html`<tr><td colspan="7" class="empty">${
        total === 0
          ? "No connections yet. Create a connect link above and open it to connect an Airtable account."
          : "No connections with this status."
      }</td></tr>`
    : view.connections.map((c) => connectionRow(c, view.csrf, chrome))
}
</tbody>
</table>
</div>
${
  view.nextCursor
    ? html`<div class="pager"><a class="button secondary small" href="${chrome.base || "/"}?${new URLSearchParams(
        {
          ...(view.status ? { status: view.status } : {}),
          after: view.nextCursor,
        },
      ).toString()}">Next page</a></div>`
    : null
}`,
  );
}

function connectionRow(c: ConnectionSummary, csrf: string, chrome: Chrome): Html {
  const now = chrome.now;
  return html`<tr>
<td class="ident-cell"><a href="${connectionHref(chrome.base, c.identifier)}" title="${c.identifier}"><strong>${c.identifier}</strong></a></td>
<td>${airtableUser(c)}</td>
<td class="status-cell">${badge(c.status)}${c.statusReason && c.status !== "active" ? html`<span class="sub">${reasonText(c.statusReason)}</span>` : null}${
    c.status === "reauth_required"
      ? html`<form class="inline" method="post" action="${connectionHref(chrome.base, c.identifier)}/reconnect">${csrfInput(csrf)}<button class="small" type="submit">Reconnect<span class="sr-only"> ${c.identifier}</span></button></form>`
      : null
  }</td>
<td>${scopeChips(c.scopes)}</td>
<td class="nowrap">${c.status === "active" ? expiry(c.accessTokenExpiresAt, now) : html`<span class="muted">—</span>`}</td>
<td class="nowrap">${c.status === "active" ? expiry(c.refreshTokenExpiresAt, now) : html`<span class="muted">—</span>`}</td>
<td class="nowrap">${time(c.lastRefreshedAt, now)}</td>

</tr>`;
}

/**
 * The one-time connect link, right after it was created.
 */
export function connectLinkPage(
  chrome: Chrome,
  view: { identifier: string; url: string; expiresAt: Date; reconnect: boolean },
): Html {
  return layout(
    chrome,
    html`<p><a href="${chrome.base || "/"}">← Connections</a></p>
<h1>${view.reconnect ? "Reconnect link" : "Connect link"} for ${ident(view.identifier)}</h1>
<p class="lede">Open it yourself to connect your own Airtable account, or send it to the person who owns the account.</p>
<section class="card" aria-labelledby="link-heading">
<h2 id="link-heading">Link</h2>
<div class="link-box">
<label class="sr-only" for="connect-url">Connect link</label>
<input id="connect-url" type="text" readonly value="${view.url}">
<button class="secondary" type="button" data-copy="connect-url">Copy</button>
</div>
<p class="help">Works once, expires ${time(view.expiresAt, chrome.now)} (${absoluteTime(view.expiresAt)}). It is shown only now; create a new one if it is lost.</p>
<div class="actions">
<a class="button" href="${view.url}">Open link</a>
<a class="button secondary" href="${connectionHref(chrome.base, view.identifier)}">Go to the connection</a>
</div>
</section>`,
  );
}

export interface TryItView {
  bases?: BaseSummary[];
  tables?: { baseId: string; baseName: string | null; tables: TableSummary[] };
  /** One table's first records, and the one just created there, if any. */
  records?: { baseId: string; table: TableSummary; records: RecordSummary[]; createdId: string | null };
  problem?: Problem;
}

export interface ConnectionView {
  csrf: string;
  connection: ConnectionSummary;
  events: EventRecord[];
  notice: Notice | null;
  tryIt: TryItView | null;
  /** The "Airtable webhooks" section (airtable-webhooks-view.ts), shown above the history. */
  airtableWebhooks?: Html | null;
}

/**
 * One connection: its facts, actions, the "Try it" panel and its event history. A connection that
 * is not active shows its tokens as what they are (dead, or erased), never as live expiries.
 */
export function connectionPage(chrome: Chrome, view: ConnectionView): Html {
  const c = view.connection;
  const now = chrome.now;
  const base = connectionHref(chrome.base, c.identifier);
  return layout(
    chrome,
    html`<p><a href="${chrome.base || "/"}">← Connections</a></p>
<div class="head"><div><h1>${ident(c.identifier)} ${badge(c.status)}</h1>
${c.statusReason && c.status !== "active" ? html`<p class="lede">${reasonText(c.statusReason)}.</p>` : html`<p class="lede">Connected ${time(c.createdAt, now)}.</p>`}
</div>
<div class="actions">
${
  c.status === "active"
    ? null
    : html`<form class="inline" method="post" action="${base}/reconnect">${csrfInput(view.csrf)}<button type="submit">Reconnect</button></form>`
}
${c.status === "revoked" ? null : html`<a class="button secondary" href="${base}/disconnect">Disconnect</a>`}
</div></div>
${notice(view.notice)}
<div class="grid">
<section class="card" aria-labelledby="facts-heading">
<h2 id="facts-heading">Details</h2>
<dl class="facts">
<dt>Airtable user</dt><dd>${airtableUser(c)}</dd>
<dt>Scopes</dt><dd>${scopeChips(c.scopes)}</dd>
${tokenFacts(c, now)}
<dt>Last refresh</dt><dd>${time(c.lastRefreshedAt, now)}</dd>
<dt>Created</dt><dd>${time(c.createdAt, now)}</dd>
<dt>Token version</dt><dd>${c.version}</dd>
${metadataFacts(c.metadata)}
</dl>
</section>
${tryItPanel(view, base)}
</div>
${view.airtableWebhooks ?? null}
${eventsSection(view.events, now)}`,
  );
}

/** The token rows of a connection's facts: live expiries only while the tokens work. */
function tokenFacts(c: ConnectionSummary, now: Date): Html {
  if (c.status === "active") {
    return html`<dt>Access token expires</dt><dd>${expiry(c.accessTokenExpiresAt, now)}</dd>
<dt>Refresh token expires</dt><dd>${expiry(c.refreshTokenExpiresAt, now)}</dd>`;
  }
  if (c.status === "revoked") {
    return html`<dt>Access token</dt><dd class="dead">Erased when the connection was disconnected ${time(c.updatedAt, now)}.</dd>
<dt>Refresh token</dt><dd class="dead">Erased. Reconnect to get new tokens: the Reconnect button makes a link for the user.</dd>`;
  }
  return html`<dt>Access token</dt><dd class="dead">Not usable: Airtable no longer accepts these tokens${c.statusReason ? ` (${c.statusReason})` : ""}.</dd>
<dt>Refresh token</dt><dd class="dead">Not usable. Reconnect to get new tokens: the Reconnect button makes a link for the user.</dd>`;
}

function eventsSection(events: EventRecord[], now: Date): Html {
  return html`<section aria-labelledby="events-heading">
<h2 id="events-heading">Event history</h2>
<div class="table-wrap">
<table>
<thead><tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">Details</th></tr></thead>
<tbody>
${
  events.length === 0
    ? html`<tr><td colspan="3" class="empty">No events yet.</td></tr>`
    : events.map(
        (e) =>
          html`<tr><td class="nowrap">${time(e.createdAt, now)}<span class="sub">${absoluteTime(e.createdAt)}</span></td><td><code>${e.type}</code></td><td class="details">${eventDetails(e.data)}</td></tr>`,
      )
}
</tbody>
</table>
</div>
</section>`;
}

export interface NoConnectionView {
  csrf: string;
  identifier: string;
  /** What happened to the identifier's newest attempt (pending link, failed consent…). */
  attempt: Notice;
  /** The identifier's history (failed attempts, or events of a connection removed before revoke existed). */
  events: EventRecord[];
  /** The integration's scopes, for the "Create a new link" button. */
  scopes: string[];
}

/**
 * An identifier that has no connection yet: what happened to its last connect attempt, a button for
 * a new link, and its history.
 */
export function noConnectionPage(chrome: Chrome, view: NoConnectionView): Html {
  return layout(
    chrome,
    html`<p><a href="${chrome.base || "/"}">← Connections</a></p>
<div class="head"><div><h1>${ident(view.identifier)} <span class="badge none">Not connected</span></h1>
<p class="lede">No Airtable account is connected under this identifier yet.</p></div>
<div class="actions">
<form class="inline" method="post" action="${chrome.base}/connections">${csrfInput(view.csrf)}<input type="hidden" name="identifier" value="${view.identifier}">${view.scopes.map((scope) => html`<input type="hidden" name="scopes" value="${scope}">`)}<button type="submit">Create a new link</button></form>
</div></div>
${notice(view.attempt)}
${eventsSection(view.events, chrome.now)}`,
  );
}

function eventDetails(data: Record<string, unknown>): Html {
  const entries = Object.entries(data);
  if (entries.length === 0) return html`<span class="muted">—</span>`;
  return html`${entries.map(
    ([key, value], i) =>
      html`${i > 0 ? " · " : ""}<span class="muted">${key.replaceAll("_", " ")}</span> ${detailValue(value)}`,
  )}`;
}

/** Longer values (an airtable.payloads event's payloads) are cut: the API has the whole event. */
const MAX_DETAIL_CHARS = 200;

function detailValue(value: unknown): string {
  const text =
    typeof value === "string"
      ? value
      : Array.isArray(value) && value.every((v) => typeof v === "string")
        ? value.join(" ")
        : JSON.stringify(value);
  return text.length > MAX_DETAIL_CHARS
    ? `${text.slice(0, MAX_DETAIL_CHARS)}… (GET …/events has it all)`
    : text;
}

function tryItPanel(view: ConnectionView, base: string): Html {
  const t = view.tryIt;
  return html`<section class="card" aria-labelledby="try-heading" id="try-it">
<h2 id="try-heading">Try it</h2>
<p class="help">Calls Airtable as this user through the proxy (<code class="ident">/v1${base.slice(0, base.indexOf("/connections/"))}/proxy/${view.connection.identifier}/v0/…</code>), exactly as your app would.</p>
<form method="get" action="${base}/try#try-it" class="actions"><input type="hidden" name="action" value="bases"><button class="secondary" type="submit">List bases</button></form>
${t?.problem ? html`<div class="mt">${problemNotice(t.problem)}</div>` : null}
${t?.bases ? basesTable(t.bases, base) : null}
${t?.tables ? tablesTable(t.tables, base) : null}
${t?.records ? recordsTable(t.records, base, view.csrf) : null}
</section>`;
}

function basesTable(bases: BaseSummary[], base: string): Html {
  if (bases.length === 0) {
    return html`<p class="empty">This connection reaches no bases. Reconnect and tick at least one base on the consent page.</p>`;
  }
  return html`<div class="table-wrap mt"><table>
<caption>Bases (GET /v0/meta/bases)</caption>
<thead><tr><th scope="col">Base</th><th scope="col">Permission</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
<tbody>${bases.map(
    (b) => html`<tr><td>${b.name}<span class="sub mono">${b.id}</span></td><td>${b.permissionLevel}</td>
<td><form class="inline" method="get" action="${base}/try#try-it"><input type="hidden" name="action" value="tables"><input type="hidden" name="base_id" value="${b.id}"><button class="small secondary" type="submit">Tables<span class="sr-only"> of ${b.name}</span></button></form></td></tr>`,
  )}</tbody></table></div>`;
}

function tablesTable(view: NonNullable<TryItView["tables"]>, base: string): Html {
  const title = view.baseName ? `${view.baseName} (${view.baseId})` : view.baseId;
  return html`<div class="table-wrap mt"><table>
<caption>Tables of ${title}</caption>
<thead><tr><th scope="col">Table</th><th scope="col">Primary field</th><th scope="col">Fields</th><th scope="col">Views</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
<tbody>${
    view.tables.length === 0
      ? html`<tr><td colspan="5" class="empty">This base has no tables.</td></tr>`
      : view.tables.map(
          (t) =>
            html`<tr><td>${t.name}<span class="sub mono">${t.id}</span></td><td>${t.primaryField ?? "—"}</td><td>${t.fieldCount}</td><td>${t.viewCount}</td>
<td><form class="inline" method="get" action="${base}/try#try-it"><input type="hidden" name="action" value="records"><input type="hidden" name="base_id" value="${view.baseId}"><input type="hidden" name="table_id" value="${t.id}"><input type="hidden" name="table_name" value="${t.name}"><input type="hidden" name="primary" value="${t.primaryField ?? ""}"><button class="small secondary" type="submit">Records<span class="sr-only"> of ${t.name}</span></button></form></td></tr>`,
        )
  }</tbody></table></div>`;
}

/** A table's first records, the one just created marked, and a form that creates another. */
function recordsTable(view: NonNullable<TryItView["records"]>, base: string, csrf: string): Html {
  const { table } = view;
  const created = view.createdId
    ? notice({
        kind: "ok",
        message: `Created ${view.createdId} through the proxy (POST /v0/${view.baseId}/${table.id}).`,
      })
    : null;
  const rows =
    view.records.length === 0
      ? html`<tr><td colspan="3" class="empty">This table has no records yet.</td></tr>`
      : view.records.map(
          (r) =>
            html`<tr${r.id === view.createdId ? html` class="highlight"` : null}><td class="mono">${r.id}</td><td>${r.primary || "—"}</td><td>${r.createdTime}</td></tr>`,
        );
  return html`${created}<div class="table-wrap mt"><table>
<caption>First records of ${table.name} (GET /v0/${view.baseId}/${table.id})</caption>
<thead><tr><th scope="col">Record</th><th scope="col">${table.primaryField ?? "Primary field"}</th><th scope="col">Created</th></tr></thead>
<tbody>${rows}</tbody></table></div>
${
  table.primaryField === null
    ? null
    : html`<form method="post" action="${base}/try/records" class="actions mt">${csrfInput(csrf)}<input type="hidden" name="base_id" value="${view.baseId}"><input type="hidden" name="table_id" value="${table.id}"><input type="hidden" name="table_name" value="${table.name}"><input type="hidden" name="primary" value="${table.primaryField}">
<label>New record's ${table.primaryField} <input name="value" required maxlength="1000" autocomplete="off"></label><button type="submit">Create record</button></form>`
}`;
}

/**
 * "Disconnect user_123?" with a confirm button (works without JavaScript).
 */
export function disconnectPage(chrome: Chrome, view: { csrf: string; identifier: string }): Html {
  const base = connectionHref(chrome.base, view.identifier);
  return layout(
    chrome,
    html`<h1>Disconnect ${ident(view.identifier)}?</h1>
<p class="lede">Airlock erases this connection's tokens; your app can no longer call Airtable for this user (the API answers 409) until they connect again through a new link. The connection stays listed as Revoked, with its event history.</p>
<form method="post" action="${base}/disconnect" class="actions">${csrfInput(view.csrf)}
<button class="danger" type="submit">Disconnect</button>
<a class="button secondary" href="${base}">Cancel</a>
</form>`,
    { narrow: true },
  );
}

/**
 * Where a connect link returns the end user's browser when the dashboard created it (public page).
 */
export function connectedPage(
  chrome: Chrome,
  view: { identifier: string | null; status: string | null; error: string | null },
): Html {
  const ok = view.status === "connected";
  return layout(
    chrome,
    html`<h1>${ok ? "Airtable connected" : "Airtable was not connected"}</h1>
${
  ok
    ? notice({ kind: "ok", message: "Your Airtable account is connected. You can close this tab." })
    : notice({
        kind: "error",
        message:
          view.error === "access_denied"
            ? "Access was declined on Airtable's consent page."
            : `Airtable reported: ${view.error ?? "an unknown error"}.`,
        hint: "Ask for a new connect link and try again.",
      })
}`,
    { narrow: true },
  );
}

/**
 * A full-page error with the fix.
 */
export function errorPage(chrome: Chrome, problem: Notice): Html {
  return layout(
    chrome,
    html`<h1>${chrome.title}</h1>${notice(problem)}<p><a href="${chrome.base || "/"}">← Connections</a></p>`,
    {
      narrow: true,
    },
  );
}

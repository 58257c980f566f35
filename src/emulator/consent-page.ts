import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { SampleBase, SampleUser } from "./sample-data.js";
import { SCOPE_DESCRIPTIONS } from "./scopes.js";

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/** Form field names of the consent page; a test that submits the form over HTTP posts these. */
export const CONSENT_FIELDS = {
  requestId: "request_id",
  /** One value per checked base id. */
  bases: "bases",
  /** "1" grants all current and future bases. */
  allBases: "all_bases",
  /** "allow" or "deny". */
  decision: "decision",
} as const;

/** The path the consent form posts to. */
export const DECISION_PATH = "/oauth2/v1/authorize/decision";

const STYLE = `body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1d1f25}
h1{font-size:1.4rem}ul{padding-left:1.2rem}fieldset{border:1px solid #ccc;border-radius:6px;margin:1rem 0}
.error{color:#b00020}.buttons{display:flex;gap:.75rem}button{padding:.5rem 1.25rem;font-size:1rem}`;

function page(title: string, body: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title}</title><style>${STYLE}</style></head>
<body>${body}</body>
</html>`;
}

export interface ConsentPageInput {
  integrationName: string;
  user: SampleUser;
  scopes: readonly string[];
  bases: readonly SampleBase[];
  requestId: string;
  /** Shown above the form when a previous submit was refused. */
  problem?: string;
}

/**
 * The consent screen: who asks, what for, which bases; Allow and Deny post to DECISION_PATH.
 */
export function consentPage(input: ConsentPageInput): Html {
  const f = CONSENT_FIELDS;
  return page(
    `Authorize ${input.integrationName}`,
    html`<h1>${input.integrationName} wants to access your Airtable account</h1>
<p>Signed in as <strong>${input.user.name}</strong> (${input.user.email}).</p>
${input.problem ? html`<p class="error" role="alert">${input.problem}</p>` : ""}
<form method="post" action="${DECISION_PATH}">
<input type="hidden" name="${f.requestId}" value="${input.requestId}">
<h2>It will be able to</h2>
<ul id="scopes">${input.scopes.map((s) => html`<li data-scope="${s}">${SCOPE_DESCRIPTIONS[s] ?? s} <code>${s}</code></li>`)}</ul>
<fieldset><legend>Bases it can reach</legend>
<label><input type="checkbox" name="${f.allBases}" value="1"> All current and future bases in all current and future workspaces</label><br>
${input.bases.map(
  (b) => html`<label><input type="checkbox" name="${f.bases}" value="${b.id}" checked> ${b.name}</label><br>`,
)}
</fieldset>
<div class="buttons">
<button type="submit" name="${f.decision}" value="allow">Grant access</button>
<button type="submit" name="${f.decision}" value="deny">Cancel</button>
</div>
</form>`,
  );
}

/**
 * The page Airtable shows instead of redirecting (bad client_id or redirect_uri, stale consent).
 */
export function errorPage(title: string, message: string): Html {
  return page(title, html`<h1>${title}</h1><p class="error" role="alert">${message}</p>`);
}

/**
 * The emulator's front page: what it serves and how to point Airlock at it.
 */
export function indexPage(origin: string, clientId: string, otherClientIds: readonly string[] = []): Html {
  const others = otherClientIds.map((id) => html` <code>${id}</code>`);
  return page(
    "Airtable emulator",
    html`<h1>Airtable emulator</h1>
<p>An offline Airtable for tests. Client id <code>${clientId}</code>${otherClientIds.length > 0 ? html`; also hosts${others}` : ""}.</p>
<ul>
<li><code>GET /oauth2/v1/authorize</code>, <code>POST /oauth2/v1/token</code></li>
<li><code>GET /v0/meta/whoami</code>, <code>/v0/meta/bases</code>, <code>/v0/meta/bases/:baseId/tables</code>, <code>/v0/:baseId/:table</code></li>
<li><a href="/__emulator/stats"><code>GET /__emulator/stats</code></a>, <code>POST /__emulator/clock</code>, <code>/__emulator/faults</code>, <code>/__emulator/revoke</code>, <code>/__emulator/reset</code></li>
</ul>
<p>Use it: <code>AIRTABLE_OAUTH_URL=${origin} AIRTABLE_API_URL=${origin} AIRTABLE_CLIENT_ID=${clientId}</code></p>`,
  );
}

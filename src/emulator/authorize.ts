import { type Context, Hono } from "hono";
import { type EmulatorConfig, type EmulatorIntegration, findIntegration } from "./config.js";
import { CONSENT_FIELDS, consentPage, DECISION_PATH, errorPage } from "./consent-page.js";
import type { BaseAccess, ConsentRequest } from "./grants.js";
import { isValidChallenge, isValidState, type SingleParams, singleParams } from "./params.js";
import type { SampleData } from "./sample-data.js";
import { isKnownScope, parseScopeList } from "./scopes.js";
import type { EmulatorState } from "./state.js";

export const AUTHORIZE_PATH = "/oauth2/v1/authorize";

type AuthorizeError = "invalid_request" | "unsupported_response_type" | "invalid_scope" | "access_denied";

/** A valid authorization request, before it is answered (auto-approved, or waiting for consent). */
type AuthorizationRequest = Omit<ConsentRequest, "id" | "expiresAt">;

/** Either the checked value, or what is wrong. */
type Checked<T, Problem> = ({ ok: true } & T) | ({ ok: false } & Problem);

/** Shown on the emulator's own error page: the browser is not sent back. */
type PageProblem = { title: string; message: string };

/** Sent back to the (verified) redirect URI as `error` and `error_description`. */
type RedirectProblem = { error: AuthorizeError; description: string };

/** An HTML answer (Hono's `c.html` may render asynchronously). */
type HtmlAnswer = Response | Promise<Response>;

/** Redirects back to the (already verified) redirect_uri with extra query parameters. */
function redirectBack(c: Context, redirectUri: string, params: Record<string, string | undefined>): Response {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params))
    if (value !== undefined) url.searchParams.set(name, value);
  return c.redirect(url.toString(), 302);
}

function redirectError(
  c: Context,
  redirectUri: string,
  state: string | undefined,
  error: AuthorizeError,
  description: string,
) {
  return redirectBack(c, redirectUri, { error, error_description: description, state });
}

function problemPage(c: Context, problem: PageProblem): HtmlAnswer {
  return c.html(errorPage(problem.title, problem.message), 400);
}

// GET /oauth2/v1/authorize: the client, then the rest of the query.

/**
 * client_id and redirect_uri. Until both check out, nothing may be sent to the redirect URI: a
 * problem here is an error page.
 */
function verifyClient(
  config: EmulatorConfig,
  { values, duplicates }: SingleParams,
): Checked<{ redirectUri: string; integration: EmulatorIntegration }, PageProblem> {
  for (const name of ["client_id", "redirect_uri"]) {
    if (duplicates.includes(name))
      return {
        ok: false,
        title: "Invalid request",
        message: `The ${name} parameter was sent more than once.`,
      };
  }
  const clientId = values.get("client_id");
  if (clientId === undefined || clientId === "")
    return { ok: false, title: "Invalid request", message: "The client_id parameter is missing." };
  const integration = findIntegration(config, clientId);
  if (!integration)
    return {
      ok: false,
      title: "Invalid client",
      message: "The client_id does not match any OAuth integration.",
    };
  const redirectUri = values.get("redirect_uri");
  if (redirectUri === undefined || redirectUri === "")
    return { ok: false, title: "Invalid request", message: "The redirect_uri parameter is missing." };
  if (!integration.redirectUris.includes(redirectUri)) {
    return {
      ok: false,
      title: "Invalid redirect URI",
      message:
        "The redirect_uri does not exactly match a redirect URL registered on this integration (scheme, host, port, path and trailing slash all count).",
    };
  }
  return { ok: true, redirectUri, integration };
}

/** Validates the scope parameter against Airtable's rules and the integration's enabled scopes. */
function scopeProblem(raw: string | undefined, enabled: ReadonlySet<string>): string | string[] {
  if (raw === undefined || raw.trim() === "")
    return "The scope parameter is required and must name at least one scope.";
  const scopes = parseScopeList(raw);
  if (!scopes) return "The scope parameter must not list a scope twice.";
  const unknown = scopes.filter((s) => !isKnownScope(s));
  if (unknown.length > 0) return `Unknown scope(s): ${unknown.join(" ")}.`;
  const disabled = scopes.filter((s) => !enabled.has(s));
  if (disabled.length > 0) return `Scope(s) not enabled on this integration: ${disabled.join(" ")}.`;
  return scopes;
}

/** Only the authorization code flow: response_type=code. */
function responseTypeProblem(values: Map<string, string>): RedirectProblem | undefined {
  const responseType = values.get("response_type");
  if (responseType === undefined)
    return { error: "invalid_request", description: "The response_type parameter is required." };
  if (responseType !== "code")
    return { error: "unsupported_response_type", description: "Only response_type=code is supported." };
  return undefined;
}

/** A `state` of 16 to 1024 characters in Airtable's alphabet. */
function checkState(values: Map<string, string>): Checked<{ state: string }, RedirectProblem> {
  const state = values.get("state");
  if (state === undefined)
    return { ok: false, error: "invalid_request", description: "The state parameter is required." };
  if (!isValidState(state)) {
    return {
      ok: false,
      error: "invalid_request",
      description: "The state parameter must be 16 to 1024 characters of A-Z a-z 0-9 . - _",
    };
  }
  return { ok: true, state };
}

/** PKCE is mandatory: a well-formed code_challenge with method S256. */
function checkChallenge(values: Map<string, string>): Checked<{ codeChallenge: string }, RedirectProblem> {
  const codeChallenge = values.get("code_challenge");
  if (codeChallenge === undefined)
    return {
      ok: false,
      error: "invalid_request",
      description: "The code_challenge parameter is required (PKCE).",
    };
  if (!isValidChallenge(codeChallenge)) {
    return {
      ok: false,
      error: "invalid_request",
      description: "The code_challenge must be base64url(SHA-256(code_verifier)) without padding.",
    };
  }
  if (values.get("code_challenge_method") !== "S256")
    return { ok: false, error: "invalid_request", description: "The code_challenge_method must be S256." };
  return { ok: true, codeChallenge };
}

/**
 * Everything after client_id and redirect_uri, in Airtable's order: no parameter twice,
 * response_type, state, PKCE, scope. A problem here is redirected back.
 */
function validateAuthorizeQuery(
  { values, duplicates }: SingleParams,
  { clientId, redirectUri }: { clientId: string; redirectUri: string },
  enabledScopes: ReadonlySet<string>,
): Checked<{ request: AuthorizationRequest }, RedirectProblem> {
  if (duplicates.length > 0) {
    const description = `Parameter(s) sent more than once: ${duplicates.join(", ")}.`;
    return { ok: false, error: "invalid_request", description };
  }
  const responseType = responseTypeProblem(values);
  if (responseType) return { ok: false, ...responseType };
  const state = checkState(values);
  if (!state.ok) return state;
  const challenge = checkChallenge(values);
  if (!challenge.ok) return challenge;
  const scopes = scopeProblem(values.get("scope"), enabledScopes);
  if (typeof scopes === "string") return { ok: false, error: "invalid_scope", description: scopes };
  const { codeChallenge } = challenge;
  return {
    ok: true,
    request: {
      clientId,
      redirectUri,
      state: state.state,
      codeChallenge,
      codeChallengeMethod: "S256",
      scopes,
    },
  };
}

/** The consent screen for a pending request (again, with the problem, after a refused submit). */
function renderConsent(
  c: Context,
  state: EmulatorState,
  consent: Pick<ConsentRequest, "id" | "scopes" | "clientId">,
  problem?: string,
): HtmlAnswer {
  const { config, data } = state;
  const page = consentPage({
    integrationName: findIntegration(config, consent.clientId)?.name ?? config.integrationName,
    user: data.user,
    scopes: consent.scopes,
    bases: data.bases,
    requestId: consent.id,
    ...(problem === undefined ? {} : { problem }),
  });
  return problem === undefined ? c.html(page) : c.html(page, 400);
}

/** Issues the code (a successful authorization) and sends the browser back. */
function approve(
  c: Context,
  state: EmulatorState,
  consent: AuthorizationRequest,
  bases: BaseAccess,
): Response {
  const code = state.grants.issueCode({
    clientId: consent.clientId,
    redirectUri: consent.redirectUri,
    codeChallenge: consent.codeChallenge,
    scopes: consent.scopes,
    bases,
  });
  state.stats.authorizations++;
  return redirectBack(c, consent.redirectUri, {
    code,
    state: consent.state,
    code_challenge: consent.codeChallenge,
    code_challenge_method: consent.codeChallengeMethod,
  });
}

/** `GET /oauth2/v1/authorize`: an error page, an error redirect, a code (auto-approve) or the consent screen. */
function authorize(c: Context, state: EmulatorState): HtmlAnswer {
  const params = singleParams(new URL(c.req.url).searchParams);
  const client = verifyClient(state.config, params);
  if (!client.ok) return problemPage(c, client);
  const { integration, redirectUri } = client;
  // The ceiling is this integration's scopes as enabled now.
  const enabled = state.enabledScopesOf(integration.clientId) ?? new Set<string>();
  const query = validateAuthorizeQuery(params, { clientId: integration.clientId, redirectUri }, enabled);
  if (!query.ok)
    return redirectError(c, client.redirectUri, params.values.get("state"), query.error, query.description);
  if (state.config.autoApprove) return approve(c, state, query.request, "all");
  return renderConsent(c, state, state.grants.createConsent(query.request));
}

// POST /oauth2/v1/authorize/decision: the user's Allow or Cancel.

/** The consent form's fields, or the error page when it was not posted as a form. */
async function readDecisionForm(c: Context): Promise<Checked<{ form: URLSearchParams }, PageProblem>> {
  const type = c.req.header("content-type") ?? "";
  if (!type.toLowerCase().startsWith("application/x-www-form-urlencoded"))
    return { ok: false, title: "Invalid request", message: "The consent form must be posted as a form." };
  return { ok: true, form: new URLSearchParams(await c.req.text()) };
}

/** The bases the user ticked: all current and future ones, or a non-empty set of existing ones. */
function chosenBases(
  form: URLSearchParams,
  data: SampleData,
): Checked<{ bases: BaseAccess }, { problem: string }> {
  if (form.get(CONSENT_FIELDS.allBases) === "1") return { ok: true, bases: "all" };
  const chosen = form.getAll(CONSENT_FIELDS.bases);
  if (chosen.length === 0)
    return { ok: false, problem: "Choose at least one base, or all current and future bases." };
  if (chosen.some((id) => !data.baseById.has(id)))
    return { ok: false, problem: "One of the chosen bases does not exist." };
  return { ok: true, bases: new Set(chosen) };
}

/** The user declined: the request is answered with access_denied. */
function deny(c: Context, state: EmulatorState, consent: ConsentRequest): Response {
  state.grants.deleteConsent(consent.id);
  return redirectError(
    c,
    consent.redirectUri,
    consent.state,
    "access_denied",
    "The user denied access to the integration.",
  );
}

/** Answers a pending consent: deny, allow with the chosen bases, or the form again with the problem. */
async function decide(c: Context, state: EmulatorState): Promise<Response> {
  const read = await readDecisionForm(c);
  if (!read.ok) return problemPage(c, read);
  const consent = state.grants.getConsent(read.form.get(CONSENT_FIELDS.requestId) ?? "");
  if (!consent) {
    return problemPage(c, {
      title: "Authorization expired",
      message: "This authorization request expired or was already answered. Start again from the app.",
    });
  }
  const decision = read.form.get(CONSENT_FIELDS.decision);
  if (decision === "deny") return deny(c, state, consent);
  if (decision !== "allow") return renderConsent(c, state, consent, "Choose Grant access or Cancel.");
  const chosen = chosenBases(read.form, state.data);
  if (!chosen.ok) return renderConsent(c, state, consent, chosen.problem);
  state.grants.deleteConsent(consent.id);
  return approve(c, state, consent, chosen.bases);
}

/**
 * `GET /oauth2/v1/authorize` and the consent form's `POST /oauth2/v1/authorize/decision`.
 * A client_id or redirect_uri that does not match shows an error page and never redirects.
 */
export function authorizeRoutes(state: EmulatorState): Hono {
  const routes = new Hono();
  routes.get(AUTHORIZE_PATH, (c) => authorize(c, state));
  routes.post(DECISION_PATH, (c) => decide(c, state));
  return routes;
}

import { type Context, Hono } from "hono";
import { CONSENT_FIELDS, consentPage, DECISION_PATH, errorPage } from "./consent-page.js";
import type { BaseAccess, ConsentRequest } from "./grants.js";
import { isValidChallenge, isValidState, singleParams } from "./params.js";
import { isKnownScope, parseScopeList } from "./scopes.js";
import type { EmulatorState } from "./state.js";

export const AUTHORIZE_PATH = "/oauth2/v1/authorize";

type AuthorizeError = "invalid_request" | "unsupported_response_type" | "invalid_scope" | "access_denied";

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

/**
 * `GET /oauth2/v1/authorize` and the consent form's `POST /oauth2/v1/authorize/decision`.
 * A client_id or redirect_uri that does not match shows an error page and never redirects.
 *
 * @example
 * app.route("/", authorizeRoutes(state));
 */
export function authorizeRoutes(state: EmulatorState): Hono {
  const { config, grants, data } = state;
  const routes = new Hono();

  /** Issues the code (a successful authorization) and sends the browser back. */
  function approve(
    c: Context,
    consent: Omit<ConsentRequest, "id" | "expiresAt">,
    bases: BaseAccess,
  ): Response {
    const code = grants.issueCode({
      clientId: config.clientId,
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

  routes.get(AUTHORIZE_PATH, (c) => {
    const { values, duplicates } = singleParams(new URL(c.req.url).searchParams);
    // Until client_id and redirect_uri check out, nothing may be sent to the redirect URI.
    for (const name of ["client_id", "redirect_uri"]) {
      if (duplicates.includes(name)) {
        return c.html(errorPage("Invalid request", `The ${name} parameter was sent more than once.`), 400);
      }
    }
    const clientId = values.get("client_id");
    if (clientId === undefined || clientId === "") {
      return c.html(errorPage("Invalid request", "The client_id parameter is missing."), 400);
    }
    if (clientId !== config.clientId) {
      return c.html(errorPage("Invalid client", "The client_id does not match any OAuth integration."), 400);
    }
    const redirectUri = values.get("redirect_uri");
    if (redirectUri === undefined || redirectUri === "") {
      return c.html(errorPage("Invalid request", "The redirect_uri parameter is missing."), 400);
    }
    if (!config.redirectUris.includes(redirectUri)) {
      return c.html(
        errorPage(
          "Invalid redirect URI",
          "The redirect_uri does not exactly match a redirect URL registered on this integration (scheme, host, port, path and trailing slash all count).",
        ),
        400,
      );
    }

    const stateParam = values.get("state");
    const fail = (error: AuthorizeError, description: string) =>
      redirectError(c, redirectUri, stateParam, error, description);
    if (duplicates.length > 0)
      return fail("invalid_request", `Parameter(s) sent more than once: ${duplicates.join(", ")}.`);
    const responseType = values.get("response_type");
    if (responseType === undefined)
      return fail("invalid_request", "The response_type parameter is required.");
    if (responseType !== "code")
      return fail("unsupported_response_type", "Only response_type=code is supported.");
    if (stateParam === undefined) return fail("invalid_request", "The state parameter is required.");
    if (!isValidState(stateParam)) {
      return fail(
        "invalid_request",
        "The state parameter must be 16 to 1024 characters of A-Z a-z 0-9 . - _",
      );
    }
    const challenge = values.get("code_challenge");
    if (challenge === undefined)
      return fail("invalid_request", "The code_challenge parameter is required (PKCE).");
    if (!isValidChallenge(challenge)) {
      return fail(
        "invalid_request",
        "The code_challenge must be base64url(SHA-256(code_verifier)) without padding.",
      );
    }
    const method = values.get("code_challenge_method");
    if (method !== "S256") return fail("invalid_request", "The code_challenge_method must be S256.");
    const scopes = scopeProblem(values.get("scope"), state.enabledScopes);
    if (typeof scopes === "string") return fail("invalid_scope", scopes);

    const request = {
      redirectUri,
      state: stateParam,
      codeChallenge: challenge,
      codeChallengeMethod: "S256" as const,
      scopes,
    };
    if (config.autoApprove) return approve(c, request, "all");
    const consent = grants.createConsent(request);
    return c.html(
      consentPage({
        integrationName: config.integrationName,
        user: data.user,
        scopes,
        bases: data.bases,
        requestId: consent.id,
      }),
    );
  });

  routes.post(DECISION_PATH, async (c) => {
    const type = c.req.header("content-type") ?? "";
    if (!type.toLowerCase().startsWith("application/x-www-form-urlencoded")) {
      return c.html(errorPage("Invalid request", "The consent form must be posted as a form."), 400);
    }
    const form = new URLSearchParams(await c.req.text());
    const consent = grants.getConsent(form.get(CONSENT_FIELDS.requestId) ?? "");
    if (!consent) {
      return c.html(
        errorPage(
          "Authorization expired",
          "This authorization request expired or was already answered. Start again from the app.",
        ),
        400,
      );
    }
    const decision = form.get(CONSENT_FIELDS.decision);
    const again = (problem: string) =>
      c.html(
        consentPage({
          integrationName: config.integrationName,
          user: data.user,
          scopes: consent.scopes,
          bases: data.bases,
          requestId: consent.id,
          problem,
        }),
        400,
      );
    if (decision === "deny") {
      grants.deleteConsent(consent.id);
      return redirectError(
        c,
        consent.redirectUri,
        consent.state,
        "access_denied",
        "The user denied access to the integration.",
      );
    }
    if (decision !== "allow") return again("Choose Grant access or Cancel.");
    let bases: BaseAccess;
    if (form.get(CONSENT_FIELDS.allBases) === "1") {
      bases = "all";
    } else {
      const chosen = form.getAll(CONSENT_FIELDS.bases);
      if (chosen.length === 0) return again("Choose at least one base, or all current and future bases.");
      if (chosen.some((id) => !data.baseById.has(id)))
        return again("One of the chosen bases does not exist.");
      bases = new Set(chosen);
    }
    grants.deleteConsent(consent.id);
    return approve(c, consent, bases);
  });

  return routes;
}

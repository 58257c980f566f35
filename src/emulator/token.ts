import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { HttpBindings } from "@hono/node-server";
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { basicClientIds, basicMatches, parseBasic } from "./client-auth.js";
import { type EmulatorConfig, type EmulatorIntegration, findIntegration } from "./config.js";
import { defaultTokenError, type TokenFault } from "./faults.js";
import type { AuthorizationCode, GrantStore, IssuedTokens, RefreshOutcome } from "./grants.js";
import { jsonResponse } from "./json-response.js";
import { isValidVerifier, singleParams } from "./params.js";
import { isKnownScope, parseScopeList } from "./scopes.js";
import type { EmulatorState } from "./state.js";
import type { EmulatorStats } from "./stats.js";

export const TOKEN_PATH = "/oauth2/v1/token";

/** Node bindings are present when served by @hono/node-server, absent under `app.request()`. */
export type EmulatorEnv = { Bindings: Partial<HttpBindings> };

type TokenError =
  | "invalid_request"
  | "invalid_client"
  | "invalid_grant"
  | "unsupported_grant_type"
  | "invalid_scope";

/** Thrown inside the handler, answered as `{error, error_description}` (401 for invalid_client). */
class OAuthFailure extends Error {
  constructor(
    readonly error: TokenError,
    readonly description: string,
  ) {
    super(description);
  }
}

const NO_STORE = { "Cache-Control": "no-store", Pragma: "no-cache" };

/** The largest form body the endpoint reads. */
const MAX_BODY_BYTES = 64 * 1024;

/** A code as the store handed it over: its authorization, "expired", or undefined (unknown or used). */
type TakenCode = AuthorizationCode | "expired" | undefined;

/** A parsed token request: each parameter sent once, and the code it carried (already consumed). */
interface TokenRequest {
  values: Map<string, string>;
  code: TakenCode;
}

// The request: a form body, each parameter once, the code consumed first.

/** The token endpoint reads `application/x-www-form-urlencoded` bodies only (never JSON). */
function requireFormBody(c: Context): void {
  const type = (c.req.header("content-type") ?? "").toLowerCase();
  if (!type.startsWith("application/x-www-form-urlencoded")) {
    throw new OAuthFailure(
      "invalid_request",
      "The token endpoint only accepts application/x-www-form-urlencoded bodies.",
    );
  }
}

/** Takes (consumes) the code before anything else is checked: single use even when the request fails. */
function takeCodeEarly(grants: GrantStore, values: Map<string, string>): TakenCode {
  const code = values.get("code");
  if (values.get("grant_type") !== "authorization_code" || code === undefined || code === "")
    return undefined;
  return grants.takeCode(code);
}

/** Reads the form body, consumes its code, then refuses any parameter sent more than once. */
async function parseTokenRequest(c: Context, grants: GrantStore): Promise<TokenRequest> {
  requireFormBody(c);
  const { values, duplicates } = singleParams(new URLSearchParams(await c.req.text()));
  const code = takeCodeEarly(grants, values);
  if (duplicates.length > 0) {
    throw new OAuthFailure("invalid_request", `Parameter(s) sent more than once: ${duplicates.join(", ")}.`);
  }
  return { values, code };
}

// Client authentication: Basic auth if and only if the integration has a secret.

/** A public client names itself with `client_id` in the body and sends no credentials. */
function authenticatePublicClient(
  clientId: string,
  header: string | undefined,
  values: Map<string, string>,
): void {
  if (header !== undefined) {
    throw new OAuthFailure(
      "invalid_client",
      "This integration has no client secret, so the Authorization header is forbidden: send client_id in the body instead.",
    );
  }
  const bodyClientId = values.get("client_id");
  if (bodyClientId === undefined)
    throw new OAuthFailure("invalid_request", "The client_id parameter is required.");
  if (bodyClientId !== clientId) throw new OAuthFailure("invalid_client", "Unknown client_id.");
  if (values.has("client_secret")) {
    throw new OAuthFailure(
      "invalid_client",
      "This integration has no client secret; do not send client_secret.",
    );
  }
}

/** A confidential client sends `Authorization: Basic`; a `client_id` in the body must agree with it. */
function authenticateConfidentialClient(
  clientId: string,
  clientSecret: string,
  header: string | undefined,
  bodyClientId: string | undefined,
): void {
  if (header === undefined) {
    throw new OAuthFailure(
      "invalid_client",
      "This integration has a client secret: authenticate with Authorization: Basic base64(client_id:client_secret).",
    );
  }
  const credentials = parseBasic(header);
  if (!credentials)
    throw new OAuthFailure("invalid_client", "The Authorization header is not valid Basic credentials.");
  if (!basicMatches(credentials, clientId, clientSecret)) {
    throw new OAuthFailure("invalid_client", "The client credentials in the Authorization header are wrong.");
  }
  if (bodyClientId !== undefined && bodyClientId !== clientId) {
    throw new OAuthFailure(
      "invalid_client",
      "The client_id in the body differs from the one in the Authorization header.",
    );
  }
}

/**
 * The integration the request names: by the body's client_id, else by the Basic credentials' id;
 * with a single integration, that one (its own checks then give the precise refusal).
 */
function namedIntegration(
  config: EmulatorConfig,
  header: string | undefined,
  values: Map<string, string>,
): EmulatorIntegration {
  const bodyClientId = values.get("client_id");
  const credentials = header === undefined ? undefined : parseBasic(header);
  const candidates =
    bodyClientId !== undefined ? [bodyClientId] : credentials ? basicClientIds(credentials) : [];
  for (const id of candidates) {
    const found = findIntegration(config, id);
    if (found) return found;
  }
  if (config.integrations.length === 1) return config.integrations[0]!;
  if (candidates.length > 0) throw new OAuthFailure("invalid_client", "Unknown client_id.");
  if (header !== undefined)
    throw new OAuthFailure("invalid_client", "The Authorization header is not valid Basic credentials.");
  throw new OAuthFailure("invalid_request", "The client_id parameter is required.");
}

/**
 * Authenticates the client the way its integration's registration demands (public or
 * confidential); returns that integration.
 */
function authenticateClient(
  config: EmulatorConfig,
  header: string | undefined,
  values: Map<string, string>,
): EmulatorIntegration {
  const integration = namedIntegration(config, header, values);
  const { clientId, clientSecret } = integration;
  if (clientSecret === undefined) authenticatePublicClient(clientId, header, values);
  else authenticateConfidentialClient(clientId, clientSecret, header, values.get("client_id"));
  return integration;
}

// The authorization_code grant.

/** The code must have been sent, known, unused and unexpired. */
function redeemableCode(values: Map<string, string>, found: TakenCode): AuthorizationCode {
  if (!values.get("code")) throw new OAuthFailure("invalid_request", "The code parameter is required.");
  if (found === undefined)
    throw new OAuthFailure("invalid_grant", "The authorization code is invalid or was already used.");
  if (found === "expired")
    throw new OAuthFailure("invalid_grant", "The authorization code expired (codes last 10 minutes).");
  return found;
}

/** The redirect_uri must repeat the authorization request's exactly. */
function checkRedirectUri(values: Map<string, string>, code: AuthorizationCode): void {
  const redirectUri = values.get("redirect_uri");
  if (redirectUri === undefined)
    throw new OAuthFailure("invalid_request", "The redirect_uri parameter is required.");
  if (redirectUri !== code.redirectUri) {
    throw new OAuthFailure(
      "invalid_grant",
      "The redirect_uri differs from the one used in the authorization request.",
    );
  }
}

/** PKCE S256: the code_verifier follows Airtable's alphabet and hashes to the code's challenge. */
function verifyPkce(values: Map<string, string>, code: AuthorizationCode): void {
  const verifier = values.get("code_verifier");
  if (verifier === undefined)
    throw new OAuthFailure("invalid_request", "The code_verifier parameter is required.");
  if (!isValidVerifier(verifier)) {
    throw new OAuthFailure(
      "invalid_grant",
      "The code_verifier must be 43 to 128 characters of A-Z a-z 0-9 . - _",
    );
  }
  if (createHash("sha256").update(verifier).digest("base64url") !== code.codeChallenge) {
    throw new OAuthFailure("invalid_grant", "The code_verifier does not match the code_challenge.");
  }
}

/**
 * Redeems the code: a new grant of the client's integration with the authorized scopes and bases,
 * and its first tokens. A code issued to another integration is invalid_grant (and stays used).
 */
function exchangeAuthorizationCode(
  state: EmulatorState,
  request: TokenRequest,
  clientId: string,
): IssuedTokens {
  const code = redeemableCode(request.values, request.code);
  if (code.clientId !== clientId)
    throw new OAuthFailure("invalid_grant", "The authorization code was issued to another client_id.");
  checkRedirectUri(request.values, code);
  verifyPkce(request.values, code);
  const grant = state.grants.createGrant(code.scopes, code.bases, code.clientId);
  const tokens = state.grants.issueTokens(grant, grant.scopes);
  state.stats.code_exchanges++;
  return tokens;
}

// The refresh_token grant.

type RefreshFailure = Extract<RefreshOutcome, { ok: false }>["reason"];

const REFRESH_FAILURES: Record<RefreshFailure, string> = {
  unknown: "The refresh token is invalid or revoked.",
  expired: "The refresh token expired: it was unused for longer than the refresh window.",
  reused: "The refresh token was already used; the authorization has been revoked.",
  scope_not_granted: "The scope parameter must be a subset of the scopes originally granted.",
  other_client: "The refresh token was issued to another client_id.",
};

/** The optional `scope` of a refresh: known scopes, each once; undefined keeps the grant's. */
function requestedScopes(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const scopes = parseScopeList(raw);
  if (!scopes?.every(isKnownScope)) {
    throw new OAuthFailure("invalid_scope", "The scope parameter must list known scopes, each once.");
  }
  return scopes;
}

/** Rotates the refresh token (reuse of a rotated one revokes the grant) and issues new tokens. */
function refreshGrant(state: EmulatorState, values: Map<string, string>, clientId: string): IssuedTokens {
  const refreshToken = values.get("refresh_token");
  if (refreshToken === undefined || refreshToken === "") {
    throw new OAuthFailure("invalid_request", "The refresh_token parameter is required.");
  }
  const outcome = state.grants.refresh(refreshToken, requestedScopes(values.get("scope")), clientId);
  if (!outcome.ok) {
    const error = outcome.reason === "scope_not_granted" ? "invalid_scope" : "invalid_grant";
    throw new OAuthFailure(error, REFRESH_FAILURES[outcome.reason]);
  }
  state.stats.refreshes++;
  return outcome.tokens;
}

/** Runs the grant the request names, for the authenticated client. */
function grantTokens(state: EmulatorState, request: TokenRequest, clientId: string): IssuedTokens {
  const grantType = request.values.get("grant_type");
  if (grantType === undefined)
    throw new OAuthFailure("invalid_request", "The grant_type parameter is required.");
  if (grantType === "authorization_code") return exchangeAuthorizationCode(state, request, clientId);
  if (grantType === "refresh_token") return refreshGrant(state, request.values, clientId);
  throw new OAuthFailure("unsupported_grant_type", "grant_type must be authorization_code or refresh_token.");
}

// The answers.

function tokenBody(tokens: IssuedTokens) {
  return {
    access_token: tokens.accessToken,
    refresh_token: tokens.refreshToken,
    token_type: "Bearer",
    scope: tokens.scopes.join(" "),
    expires_in: tokens.expiresIn,
    refresh_expires_in: tokens.refreshExpiresIn,
  };
}

/** `{error, error_description}`, counted in the stats; the status defaults to 401 for invalid_client, else 400. */
function tokenFailure(stats: EmulatorStats, error: string, description: string, status?: number): Response {
  if (error === "invalid_grant") stats.invalid_grants++;
  if (error === "invalid_client") stats.invalid_clients++;
  const code = status ?? (error === "invalid_client" ? 401 : 400);
  return jsonResponse({ error, error_description: description }, code, NO_STORE);
}

/** The answer an armed fault gives instead of the endpoint's: status and error, each derived from the other. */
function injectedFailure(fault: TokenFault | undefined): { status: number; error: string } | undefined {
  if (fault?.status !== undefined)
    return { status: fault.status, error: fault.error ?? defaultTokenError(fault.status) };
  if (fault?.error !== undefined)
    return { status: fault.error === "invalid_client" ? 401 : 400, error: fault.error };
  return undefined;
}

/** Parses, authenticates the client and runs the grant: a token response or an OAuthFailure. */
async function answerTokenRequest(c: Context<EmulatorEnv>, state: EmulatorState): Promise<Response> {
  const request = await parseTokenRequest(c, state.grants);
  const { clientId } = authenticateClient(state.config, c.req.header("authorization"), request.values);
  return c.json(tokenBody(grantTokens(state, request, clientId)), 200, NO_STORE);
}

/** One token request, with the configured latency and any armed fault (delay, error, or a dropped answer). */
async function handleTokenRequest(c: Context<EmulatorEnv>, state: EmulatorState): Promise<Response> {
  const fault = state.faults.takeToken();
  if (state.config.latencyMs > 0) await sleep(state.config.latencyMs);
  if (fault?.delay_ms) await sleep(fault.delay_ms);
  const injected = injectedFailure(fault);
  if (injected)
    return tokenFailure(
      state.stats,
      injected.error,
      "Injected by the emulator's fault control.",
      injected.status,
    );
  let response: Response;
  try {
    response = await answerTokenRequest(c, state);
  } catch (err) {
    if (!(err instanceof OAuthFailure)) throw err;
    response = tokenFailure(state.stats, err.error, err.description);
  }
  if (fault?.rotate_then_drop) {
    // The work is done (tokens rotated, stats counted); the client never hears about it.
    c.env?.incoming?.socket.destroy();
  }
  return response;
}

/**
 * `POST /oauth2/v1/token`: authorization_code and refresh_token grants with Airtable's rules
 * (form bodies only, each parameter once, Basic auth iff a secret exists, PKCE S256, single-use
 * codes, rotation with reuse detection), plus the injected faults and latency.
 */
export function tokenRoutes(state: EmulatorState): Hono<EmulatorEnv> {
  const routes = new Hono<EmulatorEnv>();
  routes.post(
    TOKEN_PATH,
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => tokenFailure(state.stats, "invalid_request", "The request body is too large."),
    }),
    (c) => handleTokenRequest(c, state),
  );
  routes.all(TOKEN_PATH, () =>
    tokenFailure(state.stats, "invalid_request", "The token endpoint only accepts POST.", 405),
  );
  return routes;
}

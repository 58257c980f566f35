import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { HttpBindings } from "@hono/node-server";
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { basicMatches, parseBasic } from "./client-auth.js";
import { defaultTokenError } from "./faults.js";
import type { IssuedTokens } from "./grants.js";
import { isValidVerifier, singleParams } from "./params.js";
import { isKnownScope, parseScopeList } from "./scopes.js";
import type { EmulatorState } from "./state.js";

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

/**
 * `POST /oauth2/v1/token`: authorization_code and refresh_token grants with Airtable's rules
 * (form bodies only, each parameter once, Basic auth iff a secret exists, PKCE S256, single-use
 * codes, rotation with reuse detection), plus the injected faults and latency.
 *
 * @example
 * app.route("/", tokenRoutes(state));
 */
export function tokenRoutes(state: EmulatorState): Hono<EmulatorEnv> {
  const { config, grants, stats } = state;
  const routes = new Hono<EmulatorEnv>();

  function authenticateClient(c: Context, values: Map<string, string>): void {
    const header = c.req.header("authorization");
    const bodyClientId = values.get("client_id");
    if (config.clientSecret === undefined) {
      if (header !== undefined) {
        throw new OAuthFailure(
          "invalid_client",
          "This integration has no client secret, so the Authorization header is forbidden: send client_id in the body instead.",
        );
      }
      if (bodyClientId === undefined)
        throw new OAuthFailure("invalid_request", "The client_id parameter is required.");
      if (bodyClientId !== config.clientId) throw new OAuthFailure("invalid_client", "Unknown client_id.");
      if (values.has("client_secret")) {
        throw new OAuthFailure(
          "invalid_client",
          "This integration has no client secret; do not send client_secret.",
        );
      }
      return;
    }
    if (header === undefined) {
      throw new OAuthFailure(
        "invalid_client",
        "This integration has a client secret: authenticate with Authorization: Basic base64(client_id:client_secret).",
      );
    }
    const credentials = parseBasic(header);
    if (!credentials)
      throw new OAuthFailure("invalid_client", "The Authorization header is not valid Basic credentials.");
    if (!basicMatches(credentials, config.clientId, config.clientSecret)) {
      throw new OAuthFailure(
        "invalid_client",
        "The client credentials in the Authorization header are wrong.",
      );
    }
    if (bodyClientId !== undefined && bodyClientId !== config.clientId) {
      throw new OAuthFailure(
        "invalid_client",
        "The client_id in the body differs from the one in the Authorization header.",
      );
    }
  }

  /** Takes (consumes) the code before anything else is checked: single use even when the request fails. */
  function takeCodeEarly(values: Map<string, string>): ReturnType<typeof grants.takeCode> {
    const code = values.get("code");
    if (values.get("grant_type") !== "authorization_code" || code === undefined || code === "")
      return undefined;
    return grants.takeCode(code);
  }

  function exchangeCode(
    values: Map<string, string>,
    found: ReturnType<typeof grants.takeCode>,
  ): IssuedTokens {
    if (!values.get("code")) throw new OAuthFailure("invalid_request", "The code parameter is required.");
    if (found === undefined)
      throw new OAuthFailure("invalid_grant", "The authorization code is invalid or was already used.");
    if (found === "expired")
      throw new OAuthFailure("invalid_grant", "The authorization code expired (codes last 10 minutes).");
    const redirectUri = values.get("redirect_uri");
    if (redirectUri === undefined)
      throw new OAuthFailure("invalid_request", "The redirect_uri parameter is required.");
    if (redirectUri !== found.redirectUri) {
      throw new OAuthFailure(
        "invalid_grant",
        "The redirect_uri differs from the one used in the authorization request.",
      );
    }
    const verifier = values.get("code_verifier");
    if (verifier === undefined)
      throw new OAuthFailure("invalid_request", "The code_verifier parameter is required.");
    if (!isValidVerifier(verifier)) {
      throw new OAuthFailure(
        "invalid_grant",
        "The code_verifier must be 43 to 128 characters of A-Z a-z 0-9 . - _",
      );
    }
    if (createHash("sha256").update(verifier).digest("base64url") !== found.codeChallenge) {
      throw new OAuthFailure("invalid_grant", "The code_verifier does not match the code_challenge.");
    }
    const grant = grants.createGrant(found.scopes, found.bases);
    const tokens = grants.issueTokens(grant, grant.scopes);
    stats.code_exchanges++;
    return tokens;
  }

  function refresh(values: Map<string, string>): IssuedTokens {
    const refreshToken = values.get("refresh_token");
    if (refreshToken === undefined || refreshToken === "") {
      throw new OAuthFailure("invalid_request", "The refresh_token parameter is required.");
    }
    let scopes: string[] | undefined;
    const rawScope = values.get("scope");
    if (rawScope !== undefined) {
      scopes = parseScopeList(rawScope);
      if (!scopes?.every(isKnownScope)) {
        throw new OAuthFailure("invalid_scope", "The scope parameter must list known scopes, each once.");
      }
    }
    const outcome = grants.refresh(refreshToken, scopes);
    if (!outcome.ok) {
      const why = {
        unknown: "The refresh token is invalid or revoked.",
        expired: "The refresh token expired: it was unused for longer than the refresh window.",
        reused: "The refresh token was already used; the authorization has been revoked.",
        scope_not_granted: "The scope parameter must be a subset of the scopes originally granted.",
      }[outcome.reason];
      throw new OAuthFailure(outcome.reason === "scope_not_granted" ? "invalid_scope" : "invalid_grant", why);
    }
    stats.refreshes++;
    return outcome.tokens;
  }

  async function answer(c: Context<EmulatorEnv>): Promise<Response> {
    const type = (c.req.header("content-type") ?? "").toLowerCase();
    if (!type.startsWith("application/x-www-form-urlencoded")) {
      throw new OAuthFailure(
        "invalid_request",
        "The token endpoint only accepts application/x-www-form-urlencoded bodies.",
      );
    }
    const { values, duplicates } = singleParams(new URLSearchParams(await c.req.text()));
    const code = takeCodeEarly(values);
    if (duplicates.length > 0) {
      throw new OAuthFailure(
        "invalid_request",
        `Parameter(s) sent more than once: ${duplicates.join(", ")}.`,
      );
    }
    authenticateClient(c, values);
    const grantType = values.get("grant_type");
    if (grantType === undefined)
      throw new OAuthFailure("invalid_request", "The grant_type parameter is required.");
    let tokens: IssuedTokens;
    if (grantType === "authorization_code") tokens = exchangeCode(values, code);
    else if (grantType === "refresh_token") tokens = refresh(values);
    else
      throw new OAuthFailure(
        "unsupported_grant_type",
        "grant_type must be authorization_code or refresh_token.",
      );
    return c.json(tokenBody(tokens), 200, NO_STORE);
  }

  function failure(c: Context, error: string, description: string, status?: number): Response {
    if (error === "invalid_grant") stats.invalid_grants++;
    if (error === "invalid_client") stats.invalid_clients++;
    const code = status ?? (error === "invalid_client" ? 401 : 400);
    return c.json({ error, error_description: description }, code as 400, NO_STORE);
  }

  routes.post(
    TOKEN_PATH,
    bodyLimit({
      maxSize: 64 * 1024,
      onError: (c) => failure(c, "invalid_request", "The request body is too large."),
    }),
    async (c) => {
      const fault = state.faults.takeToken();
      if (config.latencyMs > 0) await sleep(config.latencyMs);
      if (fault?.delay_ms) await sleep(fault.delay_ms);
      if (fault && (fault.status !== undefined || fault.error !== undefined)) {
        const error = fault.error ?? defaultTokenError(fault.status!);
        const status = fault.status ?? (error === "invalid_client" ? 401 : 400);
        return failure(c, error, "Injected by the emulator's fault control.", status);
      }
      let response: Response;
      try {
        response = await answer(c);
      } catch (err) {
        if (!(err instanceof OAuthFailure)) throw err;
        response = failure(c, err.error, err.description);
      }
      if (fault?.rotate_then_drop) {
        // The work is done (tokens rotated, stats counted); the client never hears about it.
        c.env?.incoming?.socket.destroy();
      }
      return response;
    },
  );

  routes.all(TOKEN_PATH, (c) => failure(c, "invalid_request", "The token endpoint only accepts POST.", 405));
  return routes;
}

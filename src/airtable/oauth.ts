/**
 * Airtable's authorization-code + PKCE flow over oauth4webapi: the authorize URL, the callback,
 * the code exchange and the refresh, with client authentication exactly as Airtable demands.
 */
import * as oauth from "oauth4webapi";
import { AirlockError } from "../shared/errors.js";
import { checkEndpoint, isLoopbackHost, oauthEndpoints } from "./endpoints.js";
import { assertCodeVerifier, isValidState } from "./pkce.js";
import { formatScopes, parseScopes } from "./scopes.js";
import {
  classifyTokenFailure,
  isTransientStatus,
  type TokenErrorContext,
  tokenEndpointError,
} from "./token-errors.js";
import type { AirtableOAuthConfig, TokenSet } from "./types.js";

/** Airtable's documented access-token lifetime, used when a response omits `expires_in`. */
export const DEFAULT_ACCESS_TOKEN_TTL_SECONDS = 3600;
/** Airtable's documented refresh-token lifetime (60 days), used when a response omits `refresh_expires_in`. */
export const DEFAULT_REFRESH_TOKEN_TTL_SECONDS = 60 * 24 * 3600;

/** Knobs for {@link AirtableOAuth}. */
export interface AirtableOAuthOptions {
  /** Used for every request to the token endpoint. Default: the global fetch. */
  fetch?: typeof fetch;
  /** Per token request, body included. Default 15000. */
  timeoutMs?: number;
  /** The clock used for absolute expiry times. */
  now?: () => Date;
}

/**
 * HTTP Basic with standard base64 of the raw `client_id:client_secret`, as Airtable's example app
 * sends it. oauth4webapi's ClientSecretBasic form-urlencodes both parts first (RFC 6749 §2.3.1),
 * which differs for ids or secrets with reserved characters.
 */
function airtableBasicAuth(clientSecret: string): oauth.ClientAuth {
  return (_as, client, _body, headers) => {
    const credentials = Buffer.from(`${client.client_id}:${clientSecret}`, "utf8").toString("base64");
    headers.set("authorization", `Basic ${credentials}`);
  };
}

/** Airtable may send `token_type` with stray whitespace; oauth4webapi lower-cases but does not trim. */
async function trimTokenType(response: Response): Promise<Response> {
  if (response.status !== 200) return response;
  const text = await response.text();
  let body = text;
  try {
    const json: unknown = JSON.parse(text);
    if (json && typeof json === "object" && "token_type" in json && typeof json.token_type === "string") {
      body = JSON.stringify({ ...json, token_type: json.token_type.trim() });
    }
  } catch {
    // Not JSON: oauth4webapi reports it.
  }
  return new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

function positiveSeconds(value: unknown, fallback: number): number {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  return typeof n === "number" && Number.isFinite(n) && n > 0 ? n : fallback;
}

const CALLBACK_ERRORS: Record<
  string,
  { code: "access_denied" | "invalid_scope" | "transient"; hint: string }
> = {
  access_denied: {
    code: "access_denied",
    hint: "The user clicked Deny, or Airtable would not let this integration be authorized: an integration used by other people needs a terms-of-service URL, a privacy-policy URL and a support email on its page at airtable.com/create/oauth, and an enterprise may block third-party integrations (an admin can allow this client id). Try again once that is settled.",
  },
  invalid_scope: {
    code: "invalid_scope",
    hint: "Request only scopes enabled on the integration's page (airtable.com/create/oauth); check AIRTABLE_SCOPES.",
  },
  server_error: { code: "transient", hint: "Airtable had a problem; try again in a moment." },
  temporarily_unavailable: {
    code: "transient",
    hint: "Airtable is temporarily unavailable; try again in a moment.",
  },
};

/**
 * An Airtable OAuth client. Confidential when `config.clientSecret` is set (HTTP Basic on
 * every token request), public otherwise (`client_id` in the body, never an Authorization
 * header). PKCE S256 is always used.
 *
 * @example
 * const client = new AirtableOAuth(readAirtableConfig());
 * const { codeVerifier, codeChallenge, state } = createPkcePair();
 * const url = client.authorizationUrl({ state, codeChallenge });
 * // … user approves, browser lands on the redirect URI …
 * const { code } = client.parseCallback(callbackUrl, state);
 * const tokens = await client.exchangeCode({ code, codeVerifier });
 * const fresher = await client.refresh(tokens.refreshToken);
 */
export class AirtableOAuth {
  // Private so that logging the client can never print the secret.
  readonly #config: Readonly<AirtableOAuthConfig>;
  readonly #as: oauth.AuthorizationServer;
  readonly #client: oauth.Client;
  readonly #auth: oauth.ClientAuth;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;
  readonly #now: () => Date;
  readonly #allowHttp: boolean;

  constructor(config: AirtableOAuthConfig, options: AirtableOAuthOptions = {}) {
    if (!config.clientId?.trim()) {
      throw new AirlockError("config_invalid", "AIRTABLE_CLIENT_ID is empty.", {
        hint: "Set AIRTABLE_CLIENT_ID to the client ID of your integration (airtable.com/create/oauth).",
      });
    }
    const endpointError = checkEndpoint(config.oauthUrl, "oauth").find((p) => p.level === "error");
    if (endpointError) {
      throw new AirlockError("config_invalid", endpointError.message, { hint: endpointError.fix });
    }
    const { authorizationEndpoint, tokenEndpoint } = oauthEndpoints(config.oauthUrl);
    this.#config = Object.freeze({ ...config, scopes: [...config.scopes] });
    // Airtable publishes no discovery document, so the metadata is written down here.
    this.#as = {
      issuer: new URL(config.oauthUrl).origin,
      authorization_endpoint: authorizationEndpoint.href,
      token_endpoint: tokenEndpoint.href,
      code_challenge_methods_supported: ["S256"],
      response_types_supported: ["code"],
      grant_types_supported: ["authorization_code", "refresh_token"],
    };
    this.#client = { client_id: config.clientId };
    this.#auth = config.clientSecret ? airtableBasicAuth(config.clientSecret) : oauth.None();
    this.#fetch = options.fetch ?? fetch;
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    this.#now = options.now ?? (() => new Date());
    // checkEndpoint already refused http: to anything but loopback; this only unlocks the emulator.
    this.#allowHttp = tokenEndpoint.protocol === "http:" && isLoopbackHost(tokenEndpoint.hostname);
  }

  /**
   * The URL to send the user's browser to. `scopes` defaults to the configured ones.
   *
   * @example
   * const url = client.authorizationUrl({ state, codeChallenge: computeCodeChallenge(verifier) });
   * await open(url.href);
   */
  authorizationUrl(params: {
    state: string;
    codeChallenge: string;
    scopes?: string[];
    redirectUri?: string;
  }): URL {
    if (!isValidState(params.state)) {
      throw new AirlockError("invalid_input", "The state must be 16–1024 characters of A-Z a-z 0-9 . - _.", {
        hint: "Generate it with generateState().",
      });
    }
    if (!/^[A-Za-z0-9_-]{43}$/.test(params.codeChallenge)) {
      throw new AirlockError(
        "invalid_input",
        "The code challenge is not an S256 challenge (43 base64url characters).",
        {
          hint: "Compute it with computeCodeChallenge(codeVerifier).",
        },
      );
    }
    const url = new URL(this.#as.authorization_endpoint!);
    url.searchParams.set("client_id", this.#config.clientId);
    url.searchParams.set("redirect_uri", params.redirectUri ?? this.#config.redirectUri);
    url.searchParams.set("response_type", "code");
    url.searchParams.set("scope", formatScopes(parseScopes(params.scopes ?? this.#config.scopes)));
    url.searchParams.set("state", params.state);
    url.searchParams.set("code_challenge", params.codeChallenge);
    url.searchParams.set("code_challenge_method", "S256");
    return url;
  }

  /**
   * Reads the redirect back from Airtable (a URL, or its query string as pasted by a user):
   * checks `state` and returns the code, or throws the matching AirlockError (`invalid_state`,
   * `access_denied`, `invalid_scope`, `transient`, `authorization_failed`, `invalid_input`).
   *
   * @example
   * const { code } = client.parseCallback(req.url, session.state);
   */
  parseCallback(callback: string | URL | URLSearchParams, expectedState: string): { code: string } {
    const params = toSearchParams(callback);
    try {
      const validated = oauth.validateAuthResponse(this.#as, this.#client, params, expectedState);
      const codes = validated.getAll("code");
      if (codes.length > 1) {
        throw new AirlockError("invalid_input", "The callback URL carries more than one code.", {
          hint: "Paste the exact URL the browser was redirected to.",
        });
      }
      const code = codes[0];
      if (!code) {
        throw new AirlockError("invalid_input", "The callback URL carries no authorization code.", {
          hint: "Paste the full URL the browser was redirected to (it contains ?code=…&state=…).",
        });
      }
      return { code };
    } catch (err) {
      if (err instanceof AirlockError) throw err;
      if (err instanceof oauth.AuthorizationResponseError) {
        const known = CALLBACK_ERRORS[err.error];
        const description = err.error_description ? ` (${err.error_description.slice(0, 300)})` : "";
        throw new AirlockError(
          known?.code ?? "authorization_failed",
          `Airtable did not authorize: ${err.error}${description}.`,
          {
            hint:
              known?.hint ??
              "Check AIRTABLE_CLIENT_ID, AIRTABLE_REDIRECT_URI and AIRTABLE_SCOPES (`airlock doctor`), then try again.",
            details: { error: err.error },
          },
        );
      }
      const states = params.getAll("state");
      if (states.length !== 1 || states[0] !== expectedState) {
        throw new AirlockError(
          "invalid_state",
          states.length === 0
            ? "The callback has no state parameter."
            : "The callback's state does not match the one this authorization started with.",
          {
            hint: "Start the login again and finish it in the same browser; an old or foreign link cannot be completed.",
          },
        );
      }
      throw new AirlockError("invalid_input", "The callback URL is malformed (a parameter appears twice?).", {
        hint: "Paste the exact URL the browser was redirected to.",
      });
    }
  }

  /**
   * Trades an authorization code (single use, 10 minutes) for tokens.
   *
   * @example
   * const tokens = await client.exchangeCode({ code, codeVerifier });
   */
  async exchangeCode(params: {
    code: string;
    codeVerifier: string;
    redirectUri?: string;
  }): Promise<TokenSet> {
    if (typeof params.code !== "string" || params.code.length === 0) {
      throw new AirlockError("invalid_input", "The authorization code is empty.", {
        hint: "Pass the `code` parameter from the callback URL.",
      });
    }
    assertCodeVerifier(params.codeVerifier);
    const body = new URLSearchParams({
      code: params.code,
      redirect_uri: params.redirectUri ?? this.#config.redirectUri,
      code_verifier: params.codeVerifier,
    });
    const context: TokenErrorContext = {
      grant: "authorization_code",
      hasSecret: Boolean(this.#config.clientSecret),
    };
    return this.#tokenRequest(context, this.#config.scopes, undefined, () =>
      oauth.genericTokenEndpointRequest(
        this.#as,
        this.#client,
        this.#auth,
        "authorization_code",
        body,
        this.#options(),
      ),
    );
  }

  /**
   * Trades a refresh token for new tokens. Airtable rotates: the old access AND refresh tokens
   * die now, so persist the result before using it. `invalid_grant` → `reauth_required`.
   *
   * @example
   * const next = await client.refresh(stored.refreshToken);
   * await store.save(next); // before anything else
   */
  async refresh(
    refreshToken: string,
    options: { scopes?: string[]; signal?: AbortSignal } = {},
  ): Promise<TokenSet> {
    if (typeof refreshToken !== "string" || refreshToken.length === 0) {
      throw new AirlockError("invalid_input", "The refresh token is empty.", {
        hint: "Pass the refresh token stored from the last exchange or refresh.",
      });
    }
    const scopes = options.scopes ? parseScopes(options.scopes) : undefined;
    const context: TokenErrorContext = {
      grant: "refresh_token",
      hasSecret: Boolean(this.#config.clientSecret),
    };
    return this.#tokenRequest(context, scopes ?? this.#config.scopes, refreshToken, () =>
      oauth.refreshTokenGrantRequest(this.#as, this.#client, this.#auth, refreshToken, {
        ...this.#options(options.signal),
        ...(scopes ? { additionalParameters: { scope: formatScopes(scopes) } } : {}),
      }),
    );
  }

  /** `signal`: the caller owns the deadline (the token manager's one refresh timeout). */
  #options(signal?: AbortSignal): oauth.TokenEndpointRequestOptions {
    return {
      [oauth.customFetch]: (url, init) => this.#fetch(url, init),
      signal: signal ?? AbortSignal.timeout(this.#timeoutMs),
      ...(this.#allowHttp ? { [oauth.allowInsecureRequests]: true } : {}),
    };
  }

  async #tokenRequest(
    context: TokenErrorContext,
    requestedScopes: string[],
    presentedRefreshToken: string | undefined,
    send: () => Promise<Response>,
  ): Promise<TokenSet> {
    try {
      const response = await send();
      if (isTransientStatus(response.status)) {
        await response.body?.cancel();
        throw tokenEndpointError({ status: response.status }, context);
      }
      const obtainedAt = this.#now();
      const result = await oauth.processGenericTokenEndpointResponse(
        this.#as,
        this.#client,
        await trimTokenType(response),
      );
      return toTokenSet(result, { obtainedAt, requestedScopes, presentedRefreshToken, context });
    } catch (err) {
      throw classifyTokenFailure(err, context);
    }
  }
}

function toTokenSet(
  result: oauth.TokenEndpointResponse,
  ctx: {
    obtainedAt: Date;
    requestedScopes: string[];
    presentedRefreshToken: string | undefined;
    context: TokenErrorContext;
  },
): TokenSet {
  if (result.token_type !== "bearer") {
    throw new AirlockError(
      "authorization_failed",
      `Airtable issued a ${result.token_type} token; Airlock expects Bearer.`,
      {
        hint: "Check AIRTABLE_OAUTH_URL points at Airtable (`airlock doctor`).",
        details: { grant: ctx.context.grant },
      },
    );
  }
  // RFC 6749 §6: without a new refresh token the presented one stays valid. Airtable always rotates.
  const refreshToken = result.refresh_token ?? ctx.presentedRefreshToken;
  if (!refreshToken) {
    throw new AirlockError("authorization_failed", "Airtable's token response has no refresh_token.", {
      hint: "Check AIRTABLE_OAUTH_URL points at Airtable (`airlock doctor`).",
      details: { grant: ctx.context.grant },
    });
  }
  const accessTtl = positiveSeconds(result.expires_in, DEFAULT_ACCESS_TOKEN_TTL_SECONDS);
  const refreshTtl = positiveSeconds(result.refresh_expires_in, DEFAULT_REFRESH_TOKEN_TTL_SECONDS);
  const base = ctx.obtainedAt.getTime();
  const scopes = result.scope?.split(/\s+/).filter(Boolean);
  return {
    accessToken: result.access_token,
    refreshToken,
    tokenType: "Bearer",
    scopes: scopes && scopes.length > 0 ? [...new Set(scopes)] : [...ctx.requestedScopes],
    accessTokenExpiresAt: new Date(base + accessTtl * 1000),
    refreshTokenExpiresAt: new Date(base + refreshTtl * 1000),
    obtainedAt: new Date(base),
  };
}

function toSearchParams(callback: string | URL | URLSearchParams): URLSearchParams {
  if (callback instanceof URLSearchParams) return callback;
  if (callback instanceof URL) return callback.searchParams;
  // Users paste URLs with quotes or spaces around them; a bare "?code=…" or "code=…" is fine too.
  const text = callback.trim().replace(/^["'<]+|["'>]+$/g, "");
  if (/^[a-z][a-z0-9+.-]*:/i.test(text)) {
    try {
      return new URL(text).searchParams;
    } catch {
      // Fall through to treating it as a query string.
    }
  }
  const query = text.includes("?") ? text.slice(text.indexOf("?") + 1) : text;
  return new URLSearchParams(query.split("#")[0]);
}

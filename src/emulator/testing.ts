/**
 * Small helpers for driving the emulator over real HTTP in tests (used by the emulator's own tests;
 * handy for anyone else's). Plain fetch + node:crypto, no project OAuth code.
 */
import { createHash, randomBytes } from "node:crypto";
import { z } from "zod";

/** A JSON object (what every emulator answer is); its fields are left to the caller to check. */
const jsonObjectSchema = z.record(z.string(), z.unknown());

/** What a token response must carry for a login to count; the other fields are kept. */
const tokenResponseSchema = z.looseObject({
  access_token: z.string(),
  refresh_token: z.string(),
  scope: z.string(),
});

/** The answer's body as a JSON object; throws when it is anything else. */
async function jsonObject(res: Response): Promise<Record<string, unknown>> {
  return jsonObjectSchema.parse(await res.json());
}

/**
 * A PKCE pair following Airtable's rules.
 */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(48).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

/**
 * An authorize URL for the emulator; `overrides` replace (or with null remove) single parameters.
 */
export function authorizeUrl(baseUrl: string, params: Record<string, string | null>): string {
  const defaults: Record<string, string> = {
    client_id: "airlock-emulator-client",
    redirect_uri: "http://localhost:8085/callback",
    response_type: "code",
    state: "state-0123456789abcdef",
    code_challenge_method: "S256",
    scope: "data.records:read schema.bases:read user.email:read",
  };
  const url = new URL("/oauth2/v1/authorize", baseUrl);
  for (const [name, value] of Object.entries({ ...defaults, ...params })) {
    if (value !== null) url.searchParams.set(name, value);
  }
  return url.toString();
}

/**
 * GETs a URL without following redirects; returns the status and the parsed Location, if any.
 */
export async function visit(
  url: string,
): Promise<{ status: number; location: URL | undefined; body: string }> {
  const res = await fetch(url, { redirect: "manual" });
  const header = res.headers.get("location");
  return { status: res.status, location: header ? new URL(header) : undefined, body: await res.text() };
}

/**
 * POSTs a form to the token endpoint; returns status and parsed JSON.
 */
export async function postToken(
  baseUrl: string,
  params: Record<string, string> | URLSearchParams,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(new URL("/oauth2/v1/token", baseUrl), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: params instanceof URLSearchParams ? params : new URLSearchParams(params),
  });
  return { status: res.status, json: await jsonObject(res) };
}

/**
 * Runs the whole OAuth flow against an emulator started with `autoApprove` (authorize with PKCE,
 * then the code exchange) and returns its token response: the quickest way for a test to hold a
 * real token. `client` names the integration when it is not the emulator's default one.
 *
 * @example
 * const emulator = await startEmulator({ autoApprove: true });
 * const { access_token } = await loginAutoApproved(emulator.url, "data.records:read data.records:write");
 */
export async function loginAutoApproved(
  baseUrl: string,
  scope: string,
  client: { clientId?: string; redirectUri?: string; basic?: string } = {},
): Promise<{ access_token: string; refresh_token: string; scope: string }> {
  const { verifier, challenge } = pkcePair();
  const clientId = client.clientId ?? "airlock-emulator-client";
  const redirectUri = client.redirectUri ?? "http://localhost:8085/callback";
  const { location } = await visit(
    authorizeUrl(baseUrl, {
      client_id: clientId,
      redirect_uri: redirectUri,
      scope,
      code_challenge: challenge,
    }),
  );
  const code = location?.searchParams.get("code");
  if (!code) {
    throw new Error(
      `The emulator did not redirect with a code (got ${location ?? "no redirect"}): start it with autoApprove: true (--auto-approve), and pass the client id and redirect URI it was started with.`,
    );
  }
  const body: Record<string, string> = {
    grant_type: "authorization_code",
    code,
    redirect_uri: redirectUri,
    code_verifier: verifier,
  };
  if (!client.basic) body.client_id = clientId;
  const { status, json } = await postToken(
    baseUrl,
    body,
    client.basic ? { authorization: client.basic } : {},
  );
  if (status !== 200) throw new Error(`exchange failed: ${status} ${JSON.stringify(json)}`);
  return tokenResponseSchema.parse(json);
}

/**
 * GETs a /v0 path with a bearer token; returns status, JSON and headers.
 */
export async function api(
  baseUrl: string,
  path: string,
  accessToken?: string,
): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(new URL(path, baseUrl), {
    headers: accessToken === undefined ? {} : { authorization: `Bearer ${accessToken}` },
  });
  return { status: res.status, json: await jsonObject(res), headers: res.headers };
}

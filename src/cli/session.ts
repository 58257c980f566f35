/**
 * "Give me a valid access token for this profile", for every CLI command that calls Airtable.
 * Refreshes are single-flight across processes: take the profile's lock file, re-read the
 * credentials under it, refresh only if they are still stale, and write the rotated tokens
 * atomically before anyone uses the new access token.
 */
import type { AirtableOAuthConfig, TokenSet } from "../airtable/types.js";
import { AirlockError, isAirlockError } from "../shared/errors.js";
import { FileCredentialStore, resolveAirlockHome, type StoredCredentials } from "./credentials-file.js";
import { critical } from "./critical.js";
import { type Output, processOutput } from "./output.js";

/** An access token is handed out only if it stays valid at least this long. */
export const ACCESS_TOKEN_SKEW_MS = 5 * 60_000;

/**
 * The credentials store for this environment (AIRLOCK_HOME or the platform default). A credentials
 * file other users can read is warned about on `output`'s stderr, once per file and process.
 */
export function credentialStore(
  env: NodeJS.ProcessEnv,
  output: Output = processOutput(),
): FileCredentialStore {
  return new FileCredentialStore(resolveAirlockHome(env), {
    onInsecureMode: (path, mode) => warnInsecureOnce(output, path, mode),
  });
}

const warnedInsecure = new Set<string>();

function warnInsecureOnce(output: Output, path: string, mode: number): void {
  if (warnedInsecure.has(path)) return;
  warnedInsecure.add(path);
  output.err(insecureModeWarning(path, mode));
}

/**
 * The warning for a credentials file whose permission bits let the group or others in.
 */
export function insecureModeWarning(path: string, mode: number): string {
  const what = mode & 0o044 ? "readable by other users" : "open to other users";
  return `warning: ${path} is ${what} (mode 0${mode.toString(8).padStart(3, "0")}); run: chmod 600 ${path}`;
}

/**
 * How to run an airlock command for a profile, as hints quote it: the default profile needs no flag.
 */
export function profileCommand(command: string, profile: string, ...flags: string[]): string {
  return ["airlock", command, ...(profile === "default" ? [] : ["--profile", profile]), ...flags].join(" ");
}

/**
 * The error for a profile without credentials.
 */
export function notLoggedIn(profile: string, store: FileCredentialStore): AirlockError {
  return new AirlockError(
    "not_logged_in",
    `Not logged in (profile "${profile}", no ${store.path(profile)}).`,
    {
      hint: `Run \`${profileCommand("login", profile)}\` first.`,
    },
  );
}

function reauthError(profile: string, reason: string): AirlockError {
  return new AirlockError("reauth_required", `Airtable no longer accepts this login (${reason}).`, {
    hint: `Run \`${profileCommand("login", profile)}\` again to authorize (the old refresh token cannot be used any more).`,
  });
}

/** True when the access token is valid for at least the skew. */
export function isAccessTokenFresh(credentials: StoredCredentials, now: Date = new Date()): boolean {
  return Date.parse(credentials.accessTokenExpiresAt) - now.getTime() >= ACCESS_TOKEN_SKEW_MS;
}

/**
 * The OAuth settings a refresh needs, from the stored credentials. The client secret is never
 * stored: it is read from AIRTABLE_CLIENT_SECRET when the login used one.
 */
export function refreshConfig(credentials: StoredCredentials, env: NodeJS.ProcessEnv): AirtableOAuthConfig {
  const secret = env.AIRTABLE_CLIENT_SECRET?.trim() || undefined;
  if (credentials.usesClientSecret && !secret) {
    throw new AirlockError(
      "config_invalid",
      `Profile "${credentials.profile}" was logged in with a client secret, and AIRTABLE_CLIENT_SECRET is not set.`,
      {
        hint: "Set AIRTABLE_CLIENT_SECRET to the integration's secret (Airtable requires it on every refresh); airlock does not store it.",
      },
    );
  }
  return {
    clientId: credentials.clientId,
    clientSecret: credentials.usesClientSecret ? secret : undefined,
    redirectUri: credentials.redirectUri,
    scopes: credentials.scopes,
    oauthUrl: credentials.oauthUrl,
    apiUrl: credentials.apiUrl,
  };
}

/**
 * The part of stored credentials that comes from a TokenSet, as saved (ISO dates, Bearer), so a new
 * login and a refresh write tokens the same way.
 */
export function tokenFields(
  tokens: TokenSet,
): Pick<
  StoredCredentials,
  | "scopes"
  | "accessToken"
  | "refreshToken"
  | "tokenType"
  | "accessTokenExpiresAt"
  | "refreshTokenExpiresAt"
  | "obtainedAt"
> {
  return {
    scopes: tokens.scopes,
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    tokenType: "Bearer",
    accessTokenExpiresAt: tokens.accessTokenExpiresAt.toISOString(),
    refreshTokenExpiresAt: tokens.refreshTokenExpiresAt.toISOString(),
    obtainedAt: tokens.obtainedAt.toISOString(),
  };
}

/**
 * Stored credentials updated with a new TokenSet.
 */
export function withTokens(
  credentials: StoredCredentials,
  tokens: TokenSet,
  now: Date = new Date(),
): StoredCredentials {
  return { ...credentials, ...tokenFields(tokens), updatedAt: now.toISOString(), reauthReason: null };
}

export interface FreshTokenOptions {
  store: FileCredentialStore;
  profile: string;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /**
   * Refresh even if the token looks fresh, but only if the stored access token is still this one
   * (Airtable answered 401 to it). If another process already replaced it, theirs is used.
   */
  rejectedAccessToken?: string;
  /** Told once when another airlock process holds the refresh lock. */
  onWait?: () => void;
  /** Injected for tests: the token endpoint client. */
  refresher?: (config: AirtableOAuthConfig) => { refresh(refreshToken: string): Promise<TokenSet> };
}

/**
 * Credentials whose access token is valid for at least 5 minutes, refreshing (once across all
 * processes) when needed. Throws `not_logged_in`, `reauth_required`, `config_invalid` or `transient`.
 */
export async function freshCredentials(options: FreshTokenOptions): Promise<StoredCredentials> {
  const { store, profile } = options;
  const needsRefresh = (c: StoredCredentials) =>
    options.rejectedAccessToken !== undefined
      ? c.accessToken === options.rejectedAccessToken
      : !isAccessTokenFresh(c);

  const seen = await store.read(profile);
  if (!seen) throw notLoggedIn(profile, store);
  if (seen.reauthReason) throw reauthError(profile, seen.reauthReason);
  if (!needsRefresh(seen)) return seen;

  // Loaded only when a refresh is due, like the OAuth client below.
  const { acquireFileLock } = await import("./lock.js");
  const release = await acquireFileLock(store.lockPath(profile), {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onWait ? { onWait: options.onWait } : {}),
  });
  try {
    // Another process may have refreshed while we waited: its tokens are the only valid ones now.
    const current = await store.read(profile);
    if (!current) throw notLoggedIn(profile, store);
    if (current.reauthReason) throw reauthError(profile, current.reauthReason);
    if (!needsRefresh(current)) return current;

    if (Date.parse(current.refreshTokenExpiresAt) <= Date.now()) {
      const reason = "the refresh token expired: it was not used for 60 days";
      await store.write(profile, { ...current, reauthReason: reason, updatedAt: new Date().toISOString() });
      throw reauthError(profile, reason);
    }
    const config = refreshConfig(current, options.env);
    // Loaded only when a refresh is due: the common path (a fresh token) stays light.
    const client = options.refresher
      ? options.refresher(config)
      : new (await import("../airtable/oauth.js")).AirtableOAuth(config);
    try {
      // Rotation kills the old refresh token the moment Airtable answers: the new one is saved
      // before anything else happens, and Ctrl-C waits for this section to finish.
      return await critical(async () => {
        const tokens = await client.refresh(current.refreshToken);
        const next = withTokens(current, tokens);
        await store.write(profile, next);
        return next;
      });
    } catch (error) {
      if (isAirlockError(error, "reauth_required")) {
        const reason = "Airtable rejected the refresh token with invalid_grant";
        await store.write(profile, { ...current, reauthReason: reason, updatedAt: new Date().toISOString() });
        throw reauthError(profile, reason);
      }
      throw error;
    }
  } finally {
    await release();
  }
}

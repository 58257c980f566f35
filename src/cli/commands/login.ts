/**
 * `airlock login`: authorization code + PKCE through the user's browser, with the redirect caught
 * by a loopback server on the registered redirect URI (or pasted by hand with `--paste`).
 */
import { createInterface } from "node:readline";
import { AirtableApi } from "../../airtable/api.js";
import { readAirtableConfig } from "../../airtable/config.js";
import { AUTHORIZE_PATH, REGISTER_URL } from "../../airtable/endpoints.js";
import { AirtableOAuth } from "../../airtable/oauth.js";
import { createPkcePair } from "../../airtable/pkce.js";
import { DEFAULT_SCOPES, parseScopes } from "../../airtable/scopes.js";
import type { AirtableOAuthConfig, TokenSet } from "../../airtable/types.js";
import { AirlockError, isAirlockError } from "../../shared/errors.js";
import { parseCommandArgs, parseIntegerFlag, usageError } from "../args.js";
import type { CommandContext } from "../context.js";
import {
  type FileCredentialStore,
  type StoredCredentials,
  validateProfileName,
} from "../credentials-file.js";
import { DEFAULT_CLI_REDIRECT_URI } from "../defaults.js";
import { ExitCode } from "../exit-codes.js";
import { withCliHint } from "../hints.js";
import { acquireFileLock } from "../lock.js";
import { type CallbackHit, type CallbackVerdict, callbackVerdict, startCallbackServer } from "../loopback.js";
import type { Output } from "../output.js";
import { ACCESS_TOKEN_SKEW_MS, credentialStore, profileCommand, tokenFields } from "../session.js";
import { formatDuration, formatRelative } from "../time.js";
import { waitFor } from "../wait.js";

const DEFAULT_TIMEOUT_SECONDS = 300;

export const LOGIN_HELP = `Usage: airlock login [--profile P] [--scopes "…"] [--no-browser] [--paste] [--port N] [--timeout S] [--force]

Authorizes airlock with your Airtable account (OAuth 2.0 authorization code + PKCE) and stores the
tokens for the profile. The browser is sent back to AIRTABLE_REDIRECT_URI (default
${DEFAULT_CLI_REDIRECT_URI}), where airlock listens on 127.0.0.1 for the redirect.

Flags:
  --profile P     credentials profile (default "default")
  --scopes "…"    space-separated scopes to request (default AIRTABLE_SCOPES, else
                  "${DEFAULT_SCOPES.join(" ")}")
  --no-browser    do not open a browser; open the printed URL yourself
  --paste         no local callback: paste the URL the browser was redirected to
                  (for machines without a browser, e.g. over SSH)
  --port N        listen on port N instead of the redirect URI's port; the redirect URI with that
                  port must ALSO be registered with the integration (Airtable matches exactly)
  --timeout S     give up after S seconds without a redirect (default ${DEFAULT_TIMEOUT_SECONDS})
  --force         log in again even if valid credentials exist for the same client and scopes

Environment: AIRTABLE_CLIENT_ID (required), AIRTABLE_CLIENT_SECRET (only if the integration has
one), AIRTABLE_REDIRECT_URI, AIRTABLE_SCOPES, AIRTABLE_OAUTH_URL, AIRTABLE_API_URL, AIRLOCK_HOME.
`;

const FLAGS = {
  profile: { type: "string" },
  scopes: { type: "string" },
  "no-browser": { type: "boolean" },
  paste: { type: "boolean" },
  port: { type: "string" },
  timeout: { type: "string" },
  force: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

interface LoginPlan {
  profile: string;
  config: AirtableOAuthConfig;
  /** The redirect URI sent to Airtable (AIRTABLE_REDIRECT_URI, with --port applied). */
  redirectUri: string;
  openBrowser: boolean;
  /** Where the loopback server listens; undefined with --paste. */
  callback: Extract<CallbackVerdict, { receivable: true }> | undefined;
  timeoutMs: number;
  force: boolean;
}

/**
 * Runs `airlock login`.
 */
export async function loginCommand(argv: string[], context: CommandContext): Promise<number> {
  const { values } = parseCommandArgs("login", argv, FLAGS, 0);
  if (values.help) {
    context.output.out(LOGIN_HELP);
    return ExitCode.ok;
  }
  const plan = planLogin(values, context.env, context.output);
  const store = credentialStore(context.env, context.output);

  if (!plan.force) {
    const existing = await readExisting(store, plan.profile, context.output);
    if (existing && canReuse(existing, plan)) {
      const who = existing.email ?? existing.userId ?? "your Airtable user";
      context.output.err(
        `Already logged in as ${who} (profile "${plan.profile}", refresh token expires ${formatRelative(new Date(existing.refreshTokenExpiresAt))}).`,
      );
      context.output.err(
        `Credentials: ${store.path(plan.profile)}. Use \`${profileCommand("login", plan.profile, "--force")}\` to log in again.`,
      );
      return ExitCode.ok;
    }
  }

  // Tokens minted now could not be saved into an unwritable folder: refuse before Airtable is asked.
  await store.probeWritable(plan.profile);

  const client = new AirtableOAuth(plan.config);
  const { codeVerifier, codeChallenge, state } = createPkcePair();
  const authorizeUrl = client.authorizationUrl({
    state,
    codeChallenge,
    scopes: plan.config.scopes,
    redirectUri: plan.redirectUri,
  });

  // Exchange, look up the user and save, all before the browser is told it worked.
  const complete = async (callback: string | URL): Promise<Completed> => {
    const tokens = await exchange(client, plan, callback, state, codeVerifier);
    const user = await lookUpUser(plan.config.apiUrl, tokens.accessToken, context.output);
    // Under the refresh lock: an `airlock token` refreshing the old login must not overwrite this one.
    await store.ensureHome();
    const release = await acquireFileLock(store.lockPath(plan.profile), { signal: context.signal });
    try {
      await store.write(plan.profile, newCredentials(plan, tokens, user));
    } finally {
      await release();
    }
    return { tokens, user };
  };
  const { tokens, user } = plan.callback
    ? await loopbackFlow(plan, plan.callback, context, authorizeUrl, complete)
    : await pasteFlow(plan, context, authorizeUrl, complete);

  const who = user ? (user.email ? `${user.email} (${user.id})` : user.id) : "your Airtable account";
  context.output.err(`Logged in as ${who}, profile "${plan.profile}".`);
  context.output.err(`Scopes: ${tokens.scopes.join(" ")}`);
  context.output.err(`Credentials saved to ${store.path(plan.profile)}.`);
  context.output.err(`Get a token with \`${profileCommand("token", plan.profile)}\`.`);
  return ExitCode.ok;
}

interface Completed {
  tokens: TokenSet;
  user: AirtableUserRef | null;
}

interface AirtableUserRef {
  id: string;
  email?: string | undefined;
}

function newCredentials(plan: LoginPlan, tokens: TokenSet, user: AirtableUserRef | null): StoredCredentials {
  const now = new Date().toISOString();
  return {
    version: 1,
    profile: plan.profile,
    clientId: plan.config.clientId,
    usesClientSecret: Boolean(plan.config.clientSecret),
    redirectUri: plan.redirectUri,
    oauthUrl: plan.config.oauthUrl,
    apiUrl: plan.config.apiUrl,
    ...tokenFields(tokens),
    userId: user?.id ?? null,
    email: user?.email ?? null,
    createdAt: now,
    updatedAt: now,
    reauthReason: null,
  };
}

function planLogin(
  values: {
    profile?: string;
    scopes?: string;
    "no-browser"?: boolean;
    paste?: boolean;
    port?: string;
    timeout?: string;
    force?: boolean;
  },
  env: NodeJS.ProcessEnv,
  output: Output,
): LoginPlan {
  const profile = validateProfileName(values.profile ?? "default");
  const timeoutSeconds =
    values.timeout === undefined
      ? DEFAULT_TIMEOUT_SECONDS
      : parseIntegerFlag("login", "--timeout", values.timeout, 1, 86_400);
  const port =
    values.port === undefined ? undefined : parseIntegerFlag("login", "--port", values.port, 1, 65_535);

  let flagScopes: string[] | undefined;
  if (values.scopes !== undefined) {
    try {
      flagScopes = parseScopes(values.scopes);
    } catch (error) {
      if (isAirlockError(error)) throw usageError("login", `--scopes: ${error.message} ${error.hint}`.trim());
      throw error;
    }
  }
  const config = readAirtableConfig(flagScopes ? { ...env, AIRTABLE_SCOPES: flagScopes.join(" ") } : env, {
    redirectUri: DEFAULT_CLI_REDIRECT_URI,
    scopes: [...DEFAULT_SCOPES],
  });

  let redirectUri = config.redirectUri;
  if (port !== undefined) {
    const url = new URL(redirectUri);
    url.port = String(port);
    redirectUri = url.href;
    output.err(
      `Using redirect URI ${redirectUri} (--port ${port}): it must be registered with the integration exactly like this.`,
    );
  }
  let callback: LoginPlan["callback"];
  if (!values.paste) {
    // The same verdict `airlock doctor` reports.
    const verdict = callbackVerdict(redirectUri);
    if (!verdict.receivable) throw new AirlockError("config_invalid", verdict.message, { hint: verdict.fix });
    callback = verdict;
  }
  return {
    profile,
    config: { ...config, redirectUri },
    redirectUri,
    openBrowser: !values["no-browser"] && !values.paste,
    callback,
    timeoutMs: timeoutSeconds * 1000,
    force: values.force === true,
  };
}

async function readExisting(
  store: FileCredentialStore,
  profile: string,
  output: Output,
): Promise<StoredCredentials | null> {
  try {
    return await store.read(profile);
  } catch (error) {
    if (!isAirlockError(error, "config_invalid")) throw error;
    output.err(`warning: ${error.message} It will be replaced.`);
    return null;
  }
}

/** Valid credentials for the same client, covering every requested scope, with a live refresh token. */
function canReuse(existing: StoredCredentials, plan: LoginPlan): boolean {
  const granted = new Set(existing.scopes);
  return (
    existing.clientId === plan.config.clientId &&
    existing.oauthUrl === plan.config.oauthUrl &&
    existing.reauthReason === null &&
    plan.config.scopes.every((scope) => granted.has(scope)) &&
    Date.parse(existing.refreshTokenExpiresAt) - Date.now() > ACCESS_TOKEN_SKEW_MS
  );
}

/** Validates the callback (state, error) and trades the code; the verifier never leaves this function. */
function exchange(
  client: AirtableOAuth,
  plan: LoginPlan,
  callback: string | URL,
  state: string,
  codeVerifier: string,
): Promise<TokenSet> {
  const { code } = client.parseCallback(callback, state);
  return client
    .exchangeCode({ code, codeVerifier, redirectUri: plan.redirectUri })
    .catch((error: unknown) => {
      throw withCliHint(error, plan.profile);
    });
}

function printAuthorizeUrl(output: Output, url: URL): void {
  output.err("Open this URL in a browser to authorize airlock with Airtable:");
  output.err("");
  output.err(`  ${url.href}`);
  output.err("");
}

function noRedirectError(plan: LoginPlan, waitedFor: string): AirlockError {
  return new AirlockError("timeout", `No ${waitedFor} within ${formatDuration(plan.timeoutMs / 1000)}.`, {
    hint: `If Airtable showed an error page instead of redirecting, AIRTABLE_CLIENT_ID or the redirect URI do not match the integration: register exactly ${plan.redirectUri} at ${REGISTER_URL} (run \`airlock doctor\`). Otherwise run \`${profileCommand("login", plan.profile)}\` again and approve within the time limit (--timeout S).`,
  });
}

async function loopbackFlow(
  plan: LoginPlan,
  callback: NonNullable<LoginPlan["callback"]>,
  context: CommandContext,
  authorizeUrl: URL,
  finish: (callback: URL) => Promise<Completed>,
): Promise<Completed> {
  const { output } = context;
  // Listen before showing the URL: a busy port must fail before the user approves anything.
  const server = await startCallbackServer({
    port: callback.port,
    path: callback.path,
    redirectUri: plan.redirectUri,
  });
  let hit: CallbackHit | undefined;
  try {
    if (callback.note) output.err(`warning: ${callback.note.message} ${callback.note.fix}`);
    printAuthorizeUrl(output, authorizeUrl);
    if (plan.openBrowser) await openBrowser(authorizeUrl, output);
    output.err(
      `Waiting for Airtable to redirect to ${plan.redirectUri} (up to ${formatDuration(plan.timeoutMs / 1000)}; Ctrl-C to cancel)…`,
    );
    hit = await waitFor(server.hit, {
      timeoutMs: plan.timeoutMs,
      signal: context.signal,
      onTimeout: () => noRedirectError(plan, `redirect reached ${plan.redirectUri}`),
    });
    const completed = await finish(hit.url);
    hit.respond({
      ok: true,
      title: "Airlock is logged in",
      message: `Airtable authorized airlock (profile "${plan.profile}").`,
    });
    return completed;
  } catch (error) {
    hit?.respond({
      ok: false,
      title: "Airlock could not log in",
      message: isAirlockError(error) ? `${error.message} ${error.hint}` : "An unexpected error happened.",
    });
    throw error;
  } finally {
    await server.close();
  }
}

async function pasteFlow(
  plan: LoginPlan,
  context: CommandContext,
  authorizeUrl: URL,
  finish: (callback: string) => Promise<Completed>,
): Promise<Completed> {
  const { output } = context;
  printAuthorizeUrl(output, authorizeUrl);
  output.err(
    `After you approve, the browser is sent to ${plan.redirectUri}?code=…&state=… ; that page may fail to load, which is fine.`,
  );
  output.err("Copy the full URL from the address bar and paste it here, then press Enter:");
  const line = await waitFor(readLine(context.stdin), {
    timeoutMs: plan.timeoutMs,
    signal: context.signal,
    onTimeout: () => noRedirectError(plan, "redirected URL was pasted"),
  });
  if (line === null || line.trim() === "") {
    throw new AirlockError("invalid_input", "No redirected URL was pasted.", {
      hint: `Paste the URL starting with ${plan.redirectUri}?code= (or just its query string), or run \`${profileCommand("login", plan.profile)}\` without --paste.`,
    });
  }
  assertRedirectedUrl(line, plan, authorizeUrl);
  return finish(line);
}

/**
 * Refuses a paste that cannot be the redirect, saying what was expected, without repeating what was
 * pasted (it may be a token or a secret pasted by mistake).
 */
function assertRedirectedUrl(pasted: string, plan: LoginPlan, authorizeUrl: URL): void {
  const expected = `${plan.redirectUri}?code=…&state=…`;
  const text = pasted.trim().replace(/^["'<]+|["'>]+$/g, "");
  let url: URL | undefined;
  try {
    url = /^[a-z][a-z0-9+.-]*:/i.test(text) ? new URL(text) : undefined;
  } catch {
    url = undefined;
  }
  if (
    url &&
    (url.href.startsWith(`${authorizeUrl.origin}${authorizeUrl.pathname}`) ||
      url.pathname.endsWith(AUTHORIZE_PATH))
  ) {
    throw new AirlockError(
      "invalid_input",
      "That is the authorize URL airlock printed, not the URL the browser landed on after approving.",
      {
        hint: `Open the authorize URL in a browser, approve, then copy the address the browser is sent to: ${expected} (the page itself may fail to load; the address is what counts).`,
      },
    );
  }
  const query = url
    ? url.searchParams
    : new URLSearchParams((text.includes("?") ? text.slice(text.indexOf("?") + 1) : text).split("#")[0]);
  if (!query.has("code") && !query.has("error")) {
    throw new AirlockError(
      "invalid_input",
      "What was pasted is not the URL the browser landed on after approving (it has no code and no error parameter).",
      {
        hint: `After you approve, copy the full address from the browser's address bar: ${expected} (or just its ?code=…&state=… part).`,
      },
    );
  }
}

/** The first line of input, or null at end of input. */
function readLine(stdin: NodeJS.ReadableStream): Promise<string | null> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: stdin, terminal: false });
    let done = false;
    rl.once("line", (line) => {
      done = true;
      rl.close();
      resolve(line);
    });
    rl.once("close", () => {
      if (!done) resolve(null);
    });
  });
}

async function openBrowser(url: URL, output: Output): Promise<void> {
  try {
    const { default: open } = await import("open");
    const child = await open(url.href);
    // Without a desktop, xdg-open fails after the fact: the printed URL is the fallback.
    child.once("error", () => output.err("Could not open a browser: open the URL above yourself."));
  } catch {
    output.err("Could not open a browser: open the URL above yourself.");
  }
}

/** whoami after the exchange; a failure here must not lose the fresh tokens. */
async function lookUpUser(
  apiUrl: string,
  accessToken: string,
  output: Output,
): Promise<AirtableUserRef | null> {
  try {
    const me = await new AirtableApi({ accessToken, apiUrl, maxRateLimitWaitMs: 0 }).whoami();
    return { id: me.id, email: me.email };
  } catch (error) {
    const reason = isAirlockError(error) ? error.message : "unexpected error";
    output.err(`warning: logged in, but could not look up the Airtable user (${reason}).`);
    return null;
  }
}

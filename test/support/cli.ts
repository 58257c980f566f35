/**
 * The CLI test setup: the real `airlock` binary (dist/cli/main.js) as a separate OS process, an
 * in-process emulator with exactly one registered loopback redirect URI on a free port, a temp
 * AIRLOCK_HOME (`setup`, or `cliTestbed`, which registers the hooks a CLI test file needs), and a
 * recorder of every byte the CLI printed so tests can prove no secret leaked.
 *
 * Time passes without touching any process's clock: the emulator's moves through its control API
 * and the CLI's stored credentials age by the same amount (`letTimePass`), so no system tool is needed.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { type EmulatorOptions, type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { freePort } from "./ports.js";

export { freePort };

export const CLI = resolve(import.meta.dirname, "../../dist/cli/main.js");
if (!existsSync(CLI)) {
  throw new Error(`${CLI} does not exist: run \`npm run build\` first (\`npm test\` does it for you).`);
}

/** Everything any CLI process printed in this test file (stdout and stderr), for leak checks. */
export const transcript: string[] = [];
/** Every secret seen in this file: tokens from credential files, codes from redirects, client secrets. */
export const secrets = new Set<string>();

/** Listens on 127.0.0.1:`port` (e.g. to hold the CLI's callback port); rejects if the port is taken. */
export function listenOn(port: number): Promise<Server> {
  return new Promise((resolveServer, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolveServer(server));
  });
}

export interface Setup {
  emulator: RunningEmulator;
  home: string;
  port: number;
  redirectUri: string;
  env: NodeJS.ProcessEnv;
  cleanup(): Promise<void>;
}

/** What {@link setup} takes: the emulator's options, and `secret` for a confidential client. */
export type SetupOptions = EmulatorOptions & { secret?: string };

/**
 * The environment of a CLI process: of the test runner's, only PATH; HOME and AIRLOCK_HOME are `home`.
 *
 * @example
 * await runCli(["status"], { env: cliEnv(home) });
 */
export function cliEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: home, AIRLOCK_HOME: home, ...extra };
}

/**
 * An emulator whose integration registers exactly `http://localhost:<free port>/callback`
 * (auto-approving unless told otherwise), a temp AIRLOCK_HOME, and the environment the CLI needs.
 */
export async function setup(options: SetupOptions = {}): Promise<Setup> {
  const port = await freePort();
  const redirectUri = `http://localhost:${port}/callback`;
  const clientId = options.clientId ?? "cli-acceptance-client";
  const { secret, ...emulatorOptions } = options;
  const emulator = await startEmulator({
    clientId,
    redirectUris: [redirectUri],
    ...(secret ? { clientSecret: secret } : {}),
    ...emulatorOptions,
    autoApprove: emulatorOptions.autoApprove ?? true,
  });
  if (secret) secrets.add(secret);
  const home = await mkdtemp(join(tmpdir(), "airlock-cli-home-"));
  const env = cliEnv(home, {
    AIRTABLE_CLIENT_ID: clientId,
    AIRTABLE_REDIRECT_URI: redirectUri,
    AIRTABLE_OAUTH_URL: emulator.url,
    AIRTABLE_API_URL: emulator.url,
    ...(secret ? { AIRTABLE_CLIENT_SECRET: secret } : {}),
  });
  return {
    emulator,
    home,
    port,
    redirectUri,
    env,
    cleanup: async () => {
      await emulator.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}

/** A {@link Setup} whose fields are those of the current setup (read them inside tests and hooks). */
export interface CliTestbed extends Setup {
  /** Cleans up the current setup, if any, and makes a fresh one with `options`. */
  renew(options?: SetupOptions): Promise<void>;
}

/**
 * Registers the hooks of a CLI test file (or describe block): a fresh {@link setup} before each
 * test (`per: "test"`, the default) or once for the block (`per: "suite"`), cleaned up after; with
 * `per: "manual"` each test makes its own with `renew(options)`, cleaned up after the test. Unless
 * `leakCheck: false` (a nested block whose file checks already), {@link assertNoSecretsPrinted}
 * runs after the block.
 *
 * @example
 * const s = cliTestbed();
 * it("logs in", async () => {
 *   expect((await loginAutomatically(s)).code).toBe(0);
 * });
 */
export function cliTestbed(
  options: SetupOptions & { per?: "test" | "suite" | "manual"; leakCheck?: boolean } = {},
): CliTestbed {
  const { per = "test", leakCheck = true, ...setupOptions } = options;
  let current: Setup | undefined;
  const now = (): Setup => {
    if (!current) throw new Error("cliTestbed: the setup is only available inside tests and hooks");
    return current;
  };
  const bed: CliTestbed = {
    get emulator() {
      return now().emulator;
    },
    get home() {
      return now().home;
    },
    get port() {
      return now().port;
    },
    get redirectUri() {
      return now().redirectUri;
    },
    get env() {
      return now().env;
    },
    async cleanup() {
      const done = current;
      current = undefined;
      await done?.cleanup();
    },
    async renew(renewOptions = setupOptions) {
      await bed.cleanup();
      current = await setup(renewOptions);
    },
  };
  if (leakCheck) afterAll(assertNoSecretsPrinted);
  if (per === "suite") {
    beforeAll(() => bed.renew());
    afterAll(() => bed.cleanup());
  } else {
    if (per === "test") beforeEach(() => bed.renew());
    afterEach(() => bed.cleanup());
  }
  return bed;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env: NodeJS.ProcessEnv;
  stdin?: string;
  /** Run with the wall clock moved by OFFSET, e.g. "+61m" (libfaketime; monotonic time stays real). */
  faketime?: string;
  /** Run as this user (needs root), e.g. to meet the permission errors an ordinary user meets. */
  user?: { uid: number; gid: number };
}

/** Starts `airlock ARGS…` as its own process; output is recorded for the leak check. */
export function startCli(args: string[], options: RunOptions): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: options.env,
    stdio: "pipe",
    ...(options.user ? { uid: options.user.uid, gid: options.user.gid } : {}),
    // Its own process group, so interrupt() reaches it the way a terminal's Ctrl-C does.
    detached: true,
  });
  if (options.stdin !== undefined) child.stdin.end(options.stdin);
  // `airlock token` is the one command allowed to print a token (on stdout, and nothing else).
  return new CliProcess(child, args[0] !== "token");
}

/** Runs `airlock ARGS…` to completion. */
export function runCli(args: string[], options: RunOptions): Promise<CliResult> {
  return startCli(args, options).done;
}

export class CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = "";
  stderr = "";
  readonly done: Promise<CliResult>;
  #waiters: { pattern: RegExp; resolve(match: RegExpExecArray): void }[] = [];

  constructor(child: ChildProcessWithoutNullStreams, recordStdout = true) {
    this.child = child;
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      this.stdout += chunk;
    });
    child.stderr.on("data", (chunk: string) => {
      this.stderr += chunk;
      this.#check();
    });
    this.done = new Promise((resolveDone) => {
      child.on("close", (code, signal) => {
        transcript.push(recordStdout ? this.stdout : "", this.stderr);
        resolveDone({ code, signal, stdout: this.stdout, stderr: this.stderr });
      });
    });
  }

  /** Ctrl-C: SIGINT to the whole process group, as a terminal sends it. */
  interrupt(): void {
    process.kill(-this.child.pid!, "SIGINT");
  }

  /** Resolves when stderr matches `pattern`; rejects if the process ends first. */
  waitForStderr(pattern: RegExp): Promise<RegExpExecArray> {
    return new Promise((resolveMatch, reject) => {
      this.#waiters.push({ pattern, resolve: resolveMatch });
      this.#check();
      void this.done.then((result) =>
        reject(new Error(`airlock exited (${result.code}) before printing ${pattern}:\n${result.stderr}`)),
      );
    });
  }

  /** The authorize URL the CLI printed. */
  async authorizeUrl(): Promise<URL> {
    const match = await this.waitForStderr(/(http:\/\/\S+\/oauth2\/v1\/authorize\?\S+)/);
    return new URL(match[1]!);
  }

  #check(): void {
    this.#waiters = this.#waiters.filter((waiter) => {
      const match = waiter.pattern.exec(this.stderr);
      if (match) waiter.resolve(match);
      return !match;
    });
  }
}

/** GETs the authorize URL without following redirects; returns the emulator's Location. */
export async function approveAutomatically(authorizeUrl: URL): Promise<URL> {
  const response = await fetch(authorizeUrl, { redirect: "manual" });
  const location = response.headers.get("location");
  if (response.status !== 302 || !location) {
    throw new Error(
      `expected a redirect from the emulator, got ${response.status}: ${await response.text()}`,
    );
  }
  const url = new URL(location);
  const code = url.searchParams.get("code");
  if (code) secrets.add(code);
  return url;
}

/** A parsed HTML form: where it posts and the fields a browser would send, per submit button. */
export interface ParsedForm {
  action: URL;
  method: string;
  fields: [string, string][];
  buttons: { name: string; value: string; label: string }[];
}

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}\\s*=\\s*"([^"]*)"`, "i").exec(tag);
  return match ? decodeEntities(match[1]!) : undefined;
}

function decodeEntities(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

/** Parses the first <form> of a page the way a browser would submit it (checked boxes, hidden inputs). */
export function parseForm(html: string, pageUrl: URL): ParsedForm {
  const form = /<form\b[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) throw new Error(`no form on the page:\n${html.slice(0, 500)}`);
  const openTag = /<form\b[^>]*>/i.exec(form[0])![0];
  const fields: [string, string][] = [];
  for (const [input] of form[1]!.matchAll(/<input\b[^>]*>/gi)) {
    const type = (attribute(input, "type") ?? "text").toLowerCase();
    const name = attribute(input, "name");
    if (!name) continue;
    if ((type === "checkbox" || type === "radio") && !/\schecked\b/i.test(input)) continue;
    fields.push([name, attribute(input, "value") ?? (type === "checkbox" ? "on" : "")]);
  }
  const buttons = [...form[1]!.matchAll(/<button\b([^>]*)>([\s\S]*?)<\/button>/gi)].map((m) => ({
    name: attribute(m[0], "name") ?? "",
    value: attribute(m[0], "value") ?? "",
    label: m[2]!.replace(/<[^>]+>/g, "").trim(),
  }));
  return {
    action: new URL(attribute(openTag, "action") ?? pageUrl.href, pageUrl),
    method: (attribute(openTag, "method") ?? "get").toLowerCase(),
    fields,
    buttons,
  };
}

/** Opens the consent page like a browser and clicks the button whose label matches. */
export async function submitConsent(
  authorizeUrl: URL,
  button: RegExp,
  edit: (fields: [string, string][]) => [string, string][] = (fields) => fields,
): Promise<URL> {
  const page = await fetch(authorizeUrl, { redirect: "manual" });
  if (page.status !== 200) throw new Error(`consent page answered ${page.status}`);
  const html = await page.text();
  const form = parseForm(html, authorizeUrl);
  const clicked = form.buttons.find((b) => button.test(b.label) || button.test(b.value));
  if (!clicked) throw new Error(`no button matching ${button} in ${JSON.stringify(form.buttons)}`);
  const body = new URLSearchParams(edit(form.fields));
  if (clicked.name) body.append(clicked.name, clicked.value);
  const response = await fetch(form.action, {
    method: form.method.toUpperCase(),
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body,
    redirect: "manual",
  });
  const location = response.headers.get("location");
  if (response.status !== 302 && response.status !== 303) {
    throw new Error(`consent submit answered ${response.status}: ${await response.text()}`);
  }
  const url = new URL(location!);
  const code = url.searchParams.get("code");
  if (code) secrets.add(code);
  return url;
}

/** The stored credentials of a profile (also registers its tokens as secrets to look for). */
export async function readCredentials(home: string, profile = "default"): Promise<Record<string, unknown>> {
  const json = JSON.parse(await readFile(join(home, `credentials-${profile}.json`), "utf8")) as Record<
    string,
    unknown
  >;
  for (const key of ["accessToken", "refreshToken"]) {
    if (typeof json[key] === "string") secrets.add(json[key] as string);
  }
  return json;
}

/** Moves the emulator's clock through its control API, as an external test harness would. */
export async function advanceEmulatorClock(emulator: RunningEmulator, seconds: number): Promise<void> {
  const response = await fetch(`${emulator.url}/__emulator/clock`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ advance_seconds: seconds }),
  });
  if (!response.ok) throw new Error(`clock: ${response.status} ${await response.text()}`);
}

/** The timestamps a credentials file holds (all ISO strings). */
const STORED_TIMES = [
  "accessTokenExpiresAt",
  "refreshTokenExpiresAt",
  "obtainedAt",
  "createdAt",
  "updatedAt",
] as const;

/**
 * Moves every timestamp stored for `profile` back by `seconds`, as if the login (and any refresh)
 * had happened that much earlier: to the CLI this is the same as its clock being `seconds` later.
 * The file keeps its mode; its tokens are registered as secrets.
 *
 * @example
 * await ageCredentials(s.home, 61 * 60); // the access token expired a minute ago
 */
export async function ageCredentials(home: string, seconds: number, profile = "default"): Promise<void> {
  const credentials = await readCredentials(home, profile);
  for (const key of STORED_TIMES) {
    const value = credentials[key];
    if (typeof value !== "string") throw new Error(`credentials-${profile}.json has no ${key}`);
    credentials[key] = new Date(Date.parse(value) - seconds * 1000).toISOString();
  }
  await writeFile(join(home, `credentials-${profile}.json`), `${JSON.stringify(credentials, null, 2)}\n`);
}

/**
 * `seconds` pass for the emulator (its clock, through the control API) and for the CLI (its stored
 * credentials age by the same amount): the honest "61 minutes later" without faking a process's clock.
 *
 * @example
 * await letTimePass(s, 61 * 60);
 * await runCli(["token"], { env: s.env }); // refreshes
 */
export async function letTimePass(s: Setup, seconds: number, profile = "default"): Promise<void> {
  await advanceEmulatorClock(s.emulator, seconds);
  await ageCredentials(s.home, seconds, profile);
}

/** Arms faults through the emulator's control API (e.g. `{ api: { status: 401, count: 1 } }`); returns its HTTP status. */
export async function armEmulatorFaults(
  emulator: RunningEmulator,
  faults: Record<string, unknown>,
): Promise<number> {
  const response = await fetch(`${emulator.url}/__emulator/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(faults),
  });
  return response.status;
}

export async function emulatorStats(emulator: RunningEmulator): Promise<Record<string, number>> {
  return (await (await fetch(`${emulator.url}/__emulator/stats`)).json()) as Record<string, number>;
}

/** Logs in through the emulator's auto-approve path and returns the login's result. */
export async function loginAutomatically(s: Setup, extraArgs: string[] = []): Promise<CliResult> {
  const cli = startCli(["login", "--no-browser", ...extraArgs], { env: s.env });
  const callback = await approveAutomatically(await cli.authorizeUrl());
  const page = await fetch(callback);
  transcript.push(await page.text());
  const result = await cli.done;
  await readCredentials(s.home).catch(() => undefined);
  return result;
}

/**
 * The leak check: no recorded output contains a token, code or client secret, nor any string whose
 * S256 challenge equals a challenge the CLI put in an authorize URL (i.e. the PKCE verifier). The
 * one allowed exception is `airlock token`'s stdout, which tests leave out of the transcript.
 */
export function assertNoSecretsPrinted(): void {
  const leak = findLeak(transcript, secrets);
  if (leak) throw new Error(leak);
}

/** What leaked, or null: the pure part of {@link assertNoSecretsPrinted}. */
export function findLeak(texts: readonly string[], knownSecrets: ReadonlySet<string>): string | null {
  const all = texts.join("\n");
  for (const secret of knownSecrets) {
    if (secret && all.includes(secret)) return `a secret was printed: ${secret.slice(0, 6)}…`;
  }
  const challenges = new Set([...all.matchAll(/code_challenge=([A-Za-z0-9_-]{43})/g)].map((m) => m[1]));
  const s256 = (text: string) => createHash("sha256").update(text).digest("base64url");
  for (const [run] of all.matchAll(/[A-Za-z0-9._~-]{43,}/g)) {
    // The whole run, and every 64-character window (airlock's verifier length) inside it.
    const candidates = [run];
    for (let i = 0; i + 64 <= run.length; i++) candidates.push(run.slice(i, i + 64));
    if (candidates.some((c) => challenges.has(s256(c)))) return "the PKCE code_verifier was printed";
  }
  return null;
}

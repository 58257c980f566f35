/**
 * `airlock serve` and `airlock rotate-keys`: flag parsing, the startup banner, and graceful shutdown
 * on SIGINT/SIGTERM. The service itself is `startService` (src/server/service.ts).
 */
import { existsSync } from "node:fs";
import { readServiceConfig } from "../../server/config.js";
import { demoKeysPath, loadOrCreateDemoKeys } from "../../server/demo-keys.js";
import { type RunningService, startService } from "../../server/service.js";
import { AirlockError } from "../../shared/errors.js";
import { createLogger } from "../../shared/log.js";
import { parseEncryptionKeys } from "../../store/crypto.js";
import { openStore } from "../../store/index.js";
import { parseCommandArgs } from "../args.js";
import { type Output, processOutput } from "../output.js";

export const SERVE_HELP = `airlock serve: the Airlock HTTP service (connect links, token API, proxy, dashboard)

Usage: airlock serve [--port N] [--database-url URL]

  --port N            listen on N (overrides PORT; default 4000)
  --database-url URL  SQLite file path or postgres://… (overrides DATABASE_URL; default ./airlock.db)

Without AIRTABLE_CLIENT_ID the service runs in demo mode against a built-in Airtable emulator and
generates its keys, kept in .airlock/demo-keys.json beside the SQLite file (in the working directory
for PostgreSQL). At start it prints the database, key file and journal folder it uses (absolute
paths); a start that fails (a busy port, a bad setting) leaves none of them behind.

Airtable (see the README's "Register an Airtable OAuth integration"):
  AIRTABLE_CLIENT_ID      the integration's client id; unset: demo mode
  AIRTABLE_CLIENT_SECRET  its client secret, if you generated one
  AIRTABLE_REDIRECT_URI   must be $AIRLOCK_PUBLIC_URL/oauth/callback (default: exactly that)
  AIRTABLE_SCOPES         space-separated (default "data.records:read schema.bases:read user.email:read";
                          the demo adds data.records:write)
  AIRTABLE_OAUTH_URL      default https://airtable.com
  AIRTABLE_API_URL        default https://api.airtable.com
  AIRLOCK_INTEGRATIONS_FILE  a JSON file of more integrations, each {id, name?, client_id,
                          client_secret | client_secret_env, scopes}; reached under
                          /v1/integrations/<id>/… (same callback; demo: hosted by the emulator)

Service (every variable it reads; durations in seconds unless the name says otherwise):
  PORT                                    listen port (default 4000)
  DATABASE_URL                            SQLite file path or postgres://… (default ./airlock.db)
  AIRLOCK_HOST                            bind address (default: every interface)
  AIRLOCK_PUBLIC_URL                      where browsers reach the service (default http://localhost:$PORT)
  AIRLOCK_TRUST_PROXY                     how many reverse proxies append to X-Forwarded-For (default 0:
                                          the header is ignored)
  AIRLOCK_SECRET_KEY                      bearer for /v1/* and the dashboard sign-in (required with a
                                          client id; demo: generated and kept)
  AIRLOCK_ENCRYPTION_KEYS                 kid:base64key,… ; the first encrypts, all decrypt (required with
                                          a client id; demo: generated and kept)
  AIRLOCK_ALLOWED_RETURN_ORIGINS          extra origins a return_url may use, comma-separated (default none)
  AIRLOCK_KEEPALIVE_DAYS                  refresh every connection at least this often (1–59, default 7)
  AIRLOCK_KEEPALIVE_INTERVAL_SECONDS      how often to look for connections due a keep-alive refresh
                                          (1–86400, default 600)
  AIRLOCK_WEBHOOK_URL                     where signed events are POSTed (default: no webhooks)
  AIRLOCK_WEBHOOK_SECRET                  whsec_… signing secret; required with AIRLOCK_WEBHOOK_URL
  AIRLOCK_WEBHOOK_EVENTS                  event types to deliver, comma-separated, or "all" (default:
                                          created, reauth_required, recovered, deleted, and the
                                          airtable.payloads and airtable.webhook_lost of Airtable webhooks)
  AIRLOCK_AIRTABLE_WEBHOOK_LEASE_SECONDS  one instance at a time fetches an Airtable webhook's payloads or
                                          refreshes it; a holder that dies is replaced after this (default 60)
  AIRLOCK_EVENT_RETENTION_DAYS            keep the event history this long (default 30); older events are
                                          deleted except undelivered webhooks and each connection's newest
  AIRLOCK_PROXY_MAX_BODY                  largest proxied request body in bytes (default 5242880)
  AIRLOCK_PROXY_TIMEOUT_MS                proxy upstream timeout in milliseconds (default 30000)
  AIRLOCK_REFRESH_TIMEOUT_SECONDS         the one timeout of a token request (default 30)
  AIRLOCK_REFRESH_LEASE_SECONDS           refresh lease; outlives any token request (default timeout + 90)
  AIRLOCK_TOKEN_WAIT_SECONDS              a caller waits this long on a refresh, then gets the current
                                          token if it still works, else 503 with Retry-After (default 10)
  AIRLOCK_JOURNAL_DIR                     rotated tokens wait here (encrypted, fsynced) until the database
                                          has them (default .airlock/journal beside the SQLite file, or in
                                          the working directory for PostgreSQL); keep it on a local disk
  AIRLOCK_SHUTDOWN_TIMEOUT_SECONDS        on SIGTERM/SIGINT, finish requests and refreshes within this
                                          long (default 30); a second signal exits at once
  AIRLOCK_HTTP_HEADERS_TIMEOUT_SECONDS    a client must send its request headers within this long, or
                                          gets 408 and is disconnected (default 10)
  AIRLOCK_HTTP_REQUEST_TIMEOUT_SECONDS    ... and the whole request, body included (default 60)
  AIRLOCK_HTTP_KEEPALIVE_TIMEOUT_SECONDS  an idle keep-alive connection is closed after this long
                                          (default 5; behind a load balancer, set it above the
                                          balancer's idle timeout)
  AIRLOCK_HTTP_MAX_CONNECTIONS            connections beyond this many are closed at once (default 4096)
  AIRLOCK_LOG_LEVEL                       trace, debug, info, warn, error or silent (default info)
  AIRLOCK_LOG_FORMAT                      json or pretty (default: pretty when stderr is a terminal, else
                                          json); logs go to stderr. NO_COLOR=1 turns colours off
`;

export const ROTATE_HELP = `airlock rotate-keys: re-encrypt every stored token and verifier under the first key

Usage: airlock rotate-keys [--database-url URL]

Put the new key first in AIRLOCK_ENCRYPTION_KEYS and keep the old ones after it
(AIRLOCK_ENCRYPTION_KEYS="k2:NEW,k1:OLD"), run this, then remove the old keys.
`;

const SERVE_FLAGS = {
  port: { type: "string" },
  "database-url": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

const ROTATE_FLAGS = {
  "database-url": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

function banner(output: Output, service: RunningService): void {
  const { config } = service.ctx;
  const { storage } = service;
  const created = (yes: boolean) => (yes ? " (created by this start)" : "");
  const line = "─".repeat(64);
  output.err(line);
  if (service.emulator) {
    output.err("  Airlock is running in DEMO MODE: no AIRTABLE_CLIENT_ID is set, so Airtable is the");
    output.err(`  built-in emulator at ${service.emulator.url} (fake users, bases and consent page).`);
    output.err("  Set AIRTABLE_CLIENT_ID (and friends) to talk to the real Airtable.");
    output.err("");
  }
  output.err(`  Dashboard:    ${service.url}/`);
  output.err(`  API:          ${service.url}/v1  (OpenAPI: ${service.url}/openapi.json)`);
  output.err(`  OAuth redirect URI: ${config.airtable.redirectUri}`);
  output.err(
    `  Database:     ${service.ctx.store.kind} ${storage.database}${created(storage.databaseCreated)}`,
  );
  output.err(
    `  Keys:         ${storage.keysFile ?? "AIRLOCK_SECRET_KEY and AIRLOCK_ENCRYPTION_KEYS (environment)"}${created(storage.keysCreated)}`,
  );
  output.err(`  Journal:      ${storage.journalDir}`);
  if (storage.keysFile !== null && !storage.secretKeyFromEnv) {
    output.err(`  Secret key:   ${config.secretKey}`);
    output.err("                (use it to sign in and as the API bearer)");
  } else {
    output.err("  Secret key:   the value of AIRLOCK_SECRET_KEY");
  }
  if (storage.databaseCreated && storage.keysCreated) {
    output.err("");
    output.err("  This start made a new database and new demo keys. If you meant an existing one, stop");
    output.err("  (Ctrl-C) and start from its folder, or point DATABASE_URL (--database-url) at it.");
  }
  output.err(line);
}

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const handler = (signal: NodeJS.Signals) => {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
      resolve(signal);
    };
    process.on("SIGINT", handler);
    process.on("SIGTERM", handler);
  });
}

/**
 * `airlock serve`: starts the service and runs until SIGINT/SIGTERM, then shuts down in order
 * (keep-alive and webhooks, HTTP server, token manager, store). Resolves to the exit code.
 */
export async function serveCommand(argv: string[], output: Output = processOutput()): Promise<number> {
  const flags = parseCommandArgs("serve", argv, SERVE_FLAGS, 0).values;
  if (flags.help) {
    output.out(SERVE_HELP);
    return 0;
  }
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (flags.port !== undefined) env.PORT = flags.port;
  if (flags["database-url"] !== undefined) env.DATABASE_URL = flags["database-url"];
  const config = readServiceConfig(env);
  const logger = createLogger({ name: "airlock" });
  const service = await startService(config, { logger });
  banner(output, service);
  const signal = await waitForSignal();
  output.err(`Received ${signal}; shutting down…`);
  // A second signal while shutting down leaves at once.
  const force = () => process.exit(130);
  process.once("SIGINT", force);
  process.once("SIGTERM", force);
  await service.close();
  process.off("SIGINT", force);
  process.off("SIGTERM", force);
  output.err("Stopped.");
  return 0;
}

/**
 * `airlock rotate-keys`: re-encrypts every secret column under the first key of
 * AIRLOCK_ENCRYPTION_KEYS (or the kept demo keys) and prints how many rows were rewritten.
 */
export async function rotateKeysCommand(argv: string[], output: Output = processOutput()): Promise<number> {
  const flags = parseCommandArgs("rotate-keys", argv, ROTATE_FLAGS, 0).values;
  if (flags.help) {
    output.out(ROTATE_HELP);
    return 0;
  }
  const databaseUrl = flags["database-url"] ?? (process.env.DATABASE_URL?.trim() || "./airlock.db");
  let keys = process.env.AIRLOCK_ENCRYPTION_KEYS?.trim();
  if (!keys) {
    const demoPath = demoKeysPath(databaseUrl);
    if (!existsSync(demoPath)) {
      throw new AirlockError("config_invalid", "AIRLOCK_ENCRYPTION_KEYS is not set.", {
        hint: 'Set AIRLOCK_ENCRYPTION_KEYS="NEWKID:NEWKEY,OLDKID:OLDKEY" (new key first), then run `airlock rotate-keys` again.',
      });
    }
    keys = loadOrCreateDemoKeys(demoPath).encryptionKeys;
  }
  const keyring = parseEncryptionKeys(keys);
  const store = await openStore(databaseUrl, { keyring, logger: createLogger({ name: "airlock" }) });
  try {
    const rows = await store.reencryptAll();
    output.out(
      `Re-encrypted ${rows} row${rows === 1 ? "" : "s"} under the first key of AIRLOCK_ENCRYPTION_KEYS.`,
    );
    output.err("Once every instance runs with the new key first, you may remove the old keys.");
  } finally {
    await store.close();
  }
  return 0;
}

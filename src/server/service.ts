/**
 * `startService`: everything `airlock serve` runs, in-process (tests and the CLI both use it):
 * HTTP server, keys, store, demo emulator, OAuth client, token manager, app, keep-alive, webhooks,
 * and the periodic purge of expired one-time rows and of events past the retention window.
 *
 * The port is bound before anything is created on disk, and a start that fails after that removes
 * what it created (a new database, new demo keys, a new journal folder): a failed start leaves the
 * disk as it found it.
 */
import type { AddressInfo } from "node:net";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { createAdaptorServer, type Http2Bindings, type HttpBindings } from "@hono/node-server";
import type { OpenAPIHono } from "@hono/zod-openapi";
import { AirtableOAuth } from "../airtable/oauth.js";
import { type EmulatorOptions, type RunningEmulator, startEmulator } from "../emulator/index.js";
import { AirlockError } from "../shared/errors.js";
import { createLogger, type Logger } from "../shared/log.js";
import { createMetrics, type Metrics } from "../shared/metrics.js";
import { within } from "../shared/timers.js";
import { parseEncryptionKeys } from "../store/crypto.js";
import { DEFAULT_INTEGRATION, openStore } from "../store/index.js";
import { FileRotationJournal } from "../store/journal.js";
import type { Store } from "../store/types.js";
import { startKeepAlive } from "../tokens/keep-alive.js";
import { TokenManager } from "../tokens/token-manager.js";
import { startAirtableWebhookKeeper } from "./airtable-webhooks/keeper.js";
import { AirtableWebhookWorker } from "./airtable-webhooks/worker.js";
import { createApp } from "./app.js";
import { CALLBACK_PATH, DEMO_CLIENT_ID, type HttpServerConfig, type ServiceConfig } from "./config.js";
import type { ServiceContext } from "./context.js";
import { describeDatabase, StartFootprint, sqliteFile } from "./data-dir.js";
import { demoEmulatorStatePath, demoKeysPath, loadOrCreateDemoKeys } from "./demo-keys.js";
import { type Integration, type IntegrationSource, Integrations } from "./integrations.js";
import type { IntegrationConfig } from "./integrations-config.js";
import type { AppEnv } from "./request-log.js";
import { type StoredIntegrationSync, storedIntegrationSync } from "./stored-integrations.js";
import { startWebhookDelivery } from "./webhooks.js";

export interface StartServiceOptions {
  logger?: Logger;
  /** The clock for expiry checks (default: the system clock). */
  now?: () => Date;
  /** Demo mode only: extra emulator options (tests pass `{ autoApprove: true }`). */
  demoEmulator?: Partial<EmulatorOptions>;
  /** How often the keep-alive scheduler looks for due connections (default: AIRLOCK_KEEPALIVE_INTERVAL_SECONDS). */
  keepAliveIntervalMs?: number;
  /** Disable the keep-alive scheduler (tests that count refreshes). */
  keepAlive?: boolean;
  /** How often expired connect sessions and pending authorizations are deleted (default 10 minutes). */
  purgeIntervalMs?: number;
  /** Passed to the webhook loop (tests poll faster). */
  webhookPollIntervalMs?: number;
}

export interface RunningService {
  /** The public URL (with the real port when PORT was 0). */
  url: string;
  ctx: ServiceContext;
  /** The Hono app (route listing, in-process requests). */
  app: OpenAPIHono<AppEnv>;
  /** Set in demo mode. */
  emulator: RunningEmulator | null;
  /** True when this start generated the demo keys. */
  demoKeysCreated: boolean;
  /** Where this instance keeps its state (the banner and the start log line say it). */
  storage: ServiceStorage;
  close(): Promise<void>;
}

/** Where a running service keeps its state, as people should be told at start. */
export interface ServiceStorage {
  /** The SQLite file's absolute path, or the server URL without credentials. */
  database: string;
  /** True when this start created the SQLite file. */
  databaseCreated: boolean;
  /** The demo key file in use (absolute), or null when both keys come from the environment. */
  keysFile: string | null;
  /** True when this start generated the demo key file. */
  keysCreated: boolean;
  /** True when AIRLOCK_SECRET_KEY is set (the secret key is not in the key file). */
  secretKeyFromEnv: boolean;
  /** The rotation journal folder (absolute). */
  journalDir: string;
}

type Server = ReturnType<typeof createAdaptorServer>;

function listen(server: Server, port: number, host: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") {
        reject(
          new AirlockError("port_in_use", `Port ${port} is already in use.`, {
            hint: `Stop the other process, or start on another port: PORT=${port + 10} or --port ${port + 10} (and update AIRLOCK_PUBLIC_URL if you set it).`,
            cause: error,
          }),
        );
      } else reject(error);
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

async function startDemoEmulator(
  config: ServiceConfig,
  servicePort: number,
  extra: Partial<EmulatorOptions> | undefined,
): Promise<RunningEmulator> {
  const options: EmulatorOptions = {
    clientId: DEMO_CLIENT_ID,
    redirectUris: [config.airtable.redirectUri],
    autoApprove: false,
    integrationName: "Airlock demo",
    // The integrations of AIRLOCK_INTEGRATIONS_FILE are hosted next to the demo's own.
    integrations: config.integrations.map((integration) => ({
      clientId: integration.airtable.clientId,
      clientSecret: integration.airtable.clientSecret,
      redirectUris: [integration.airtable.redirectUri],
      scopes: integration.airtable.scopes,
      name: integration.name,
    })),
    stateFile: demoEmulatorStatePath(config.databaseUrl),
    ...extra,
  };
  const preferred = config.port === 0 ? 0 : servicePort + 1;
  try {
    return await startEmulator({ ...options, port: preferred });
  } catch (error) {
    if (preferred === 0) throw error;
    return startEmulator({ ...options, port: 0 });
  }
}

function resolveKeys(
  config: ServiceConfig,
  footprint: StartFootprint,
): { secretKey: string; encryptionKeys: string; created: boolean; file: string | null } {
  if (config.secretKey !== null && config.encryptionKeys !== null) {
    return { secretKey: config.secretKey, encryptionKeys: config.encryptionKeys, created: false, file: null };
  }
  if (!config.demo) {
    throw new AirlockError("config_invalid", "AIRLOCK_SECRET_KEY and AIRLOCK_ENCRYPTION_KEYS are required.", {
      hint: "Set both (see the README's service section); only demo mode generates them.",
    });
  }
  const path = demoKeysPath(config.databaseUrl);
  footprint.dir(dirname(path));
  const kept = loadOrCreateDemoKeys(path);
  if (kept.created) footprint.made(path);
  return {
    secretKey: config.secretKey ?? kept.secretKey,
    encryptionKeys: config.encryptionKeys ?? kept.encryptionKeys,
    created: kept.created,
    file: path,
  };
}

/**
 * Node's HTTP server settings against slow and idle clients (its defaults hold a socket that
 * never finishes its headers for 60 s plus a check interval of 30 s).
 */
function httpServerOptions(http: HttpServerConfig) {
  return {
    headersTimeout: http.headersTimeoutMs,
    requestTimeout: http.requestTimeoutMs,
    keepAliveTimeout: http.keepAliveTimeoutMs,
    // How often the header and request timeouts are checked: a fraction of the shortest.
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(http.headersTimeoutMs / 4))),
  };
}

/** FileRotationJournal's ballast file: created by a start, so removed by one that fails. */
const JOURNAL_BALLAST = ".reserve";

interface Deadline {
  remainingMs(): number;
}

function startDeadline(ms: number): Deadline {
  const end = performance.now() + ms;
  return { remainingMs: () => Math.max(0, end - performance.now()) };
}

/**
 * Stops accepting, lets in-flight requests (proxied ones included) finish and closes connections
 * as they go idle; whatever is still open at the deadline is cut.
 */
function drain(server: Server, deadline: Deadline): Promise<void> {
  return new Promise<void>((resolve) => {
    const idle = setInterval(() => {
      if ("closeIdleConnections" in server) server.closeIdleConnections();
    }, 50);
    const cut = setTimeout(() => {
      if ("closeAllConnections" in server) server.closeAllConnections();
    }, deadline.remainingMs());
    server.close(() => {
      clearInterval(idle);
      clearTimeout(cut);
      resolve();
    });
    if ("closeIdleConnections" in server) server.closeIdleConnections();
  });
}

function withPort(publicUrl: string, port: number): string {
  const url = new URL(publicUrl);
  if (url.port !== "0") return publicUrl;
  url.port = String(port);
  return url.href.replace(/\/+$/, "");
}

/**
 * What a shutdown stops, and in which order: in reverse start order, except that background loops
 * stop first and the HTTP server closes right after them (no new requests while the rest goes down).
 */
class Shutdown {
  readonly #timeoutMs: number;
  readonly #logger: Logger;
  readonly #cleanups: Array<(deadline: Deadline) => Promise<void> | void> = [];
  readonly #background: Array<() => Promise<void> | void> = [];
  #closeServer: ((deadline: Deadline) => Promise<void>) | null = null;
  #closeTokens: ((deadline: Deadline) => Promise<void>) | null = null;

  constructor(timeoutMs: number, logger: Logger) {
    this.#timeoutMs = timeoutMs;
    this.#logger = logger;
  }

  /** A background loop, stopped first. */
  background(stop: () => Promise<void> | void): void {
    this.#background.push(stop);
  }

  /** How the HTTP server stops accepting and answers what it has, right after the background loops. */
  server(close: (deadline: Deadline) => Promise<void>): void {
    this.#closeServer = close;
  }

  /** How in-flight refreshes and the saves of their rotations finish, right after the HTTP server. */
  tokens(close: (deadline: Deadline) => Promise<void>): void {
    this.#closeTokens = close;
  }

  /** Something else started, closed last, in reverse start order. */
  cleanup(step: (deadline: Deadline) => Promise<void> | void): void {
    this.#cleanups.push(step);
  }

  /**
   * One deadline for the whole shutdown: background loops stop (in-flight webhook deliveries
   * finish), the HTTP server stops accepting and answers what it has, in-flight refreshes and the
   * saves of their rotations finish (or stay journaled), then the rest closes.
   */
  async run(): Promise<void> {
    const deadline = startDeadline(this.#timeoutMs);
    for (const step of this.#background.splice(0)) await this.#step(step);
    const server = this.#closeServer;
    this.#closeServer = null;
    if (server) await this.#step(() => server(deadline));
    const tokens = this.#closeTokens;
    this.#closeTokens = null;
    if (tokens) await this.#step(() => tokens(deadline));
    for (const step of this.#cleanups.splice(0).reverse()) await this.#step(() => step(deadline));
  }

  async #step(step: () => Promise<void> | void): Promise<void> {
    try {
      await step();
    } catch (error) {
      this.#logger.warn({ err: error }, "shutdown step failed");
    }
  }
}

/** What every start step shares. */
interface StartContext {
  logger: Logger;
  now: () => Date;
  metrics: Metrics;
  /** What this start creates on disk, removed again if the start fails. */
  footprint: StartFootprint;
  shutdown: Shutdown;
}

type FetchApp = {
  fetch: (request: Request, env: HttpBindings | Http2Bindings) => Response | Promise<Response>;
};

interface ListeningServer {
  /** The port bound (the real one when PORT was 0). */
  port: number;
  /** Hands requests to the app from now on (those waiting for the start included). */
  serve(app: FetchApp): void;
}

/**
 * Binds the port. Until `serve` is given the app, requests wait for the start (then 503); once
 * shutdown begins, every answer closes its connection.
 */
async function listenFirst(
  input: ServiceConfig,
  startup: StartupGate,
  shutdown: Shutdown,
): Promise<ListeningServer> {
  let app: FetchApp | null = null;
  let draining = false;
  const server = createAdaptorServer({
    fetch: async (request: Request, env: HttpBindings | Http2Bindings) => {
      // While draining, every answer closes its connection, so clients reconnect elsewhere.
      if (draining && "shouldKeepAlive" in env.outgoing) env.outgoing.shouldKeepAlive = false;
      // A load balancer may send requests as soon as the port accepts: they wait for the start.
      if (!app) await startup.within(STARTUP_WAIT_MS);
      return app
        ? app.fetch(request, env)
        : Response.json(
            { error: { code: "transient", message: "Airlock is starting.", hint: "Retry in a moment." } },
            { status: 503, headers: { "Retry-After": "1" } },
          );
    },
    serverOptions: httpServerOptions(input.http),
  });
  // Connections beyond the cap are closed as they arrive (slow clients cannot exhaust descriptors).
  server.maxConnections = input.http.maxConnections;
  const port = await listen(server, input.port, input.host);
  shutdown.server((deadline) => {
    draining = true;
    return drain(server, deadline);
  });
  return {
    port,
    serve: (next) => {
      app = next;
    },
  };
}

type ResolvedKeys = ReturnType<typeof resolveKeys>;

/** The keys (from the environment or the demo key file), the keyring, and the open store. */
async function openStoreAndKeyring(input: ServiceConfig, start: StartContext) {
  const keys = resolveKeys(input, start.footprint);
  const keyring = parseEncryptionKeys(keys.encryptionKeys);
  const sqlitePath = sqliteFile(input.databaseUrl);
  const databaseCreated = sqlitePath !== undefined && start.footprint.sqlite(sqlitePath);
  const store: Store = await openStore(input.databaseUrl, {
    keyring,
    webhookEvents: input.webhook?.events ?? null,
    logger: start.logger,
    onFailure: start.metrics.recordStoreFailure,
  });
  start.shutdown.cleanup(() => store.close());
  return { keys, keyring, store, databaseCreated };
}

/** The configuration with the real port, the public URL built on it, and the keys in use. */
function configWithPortAndKeys(input: ServiceConfig, port: number, keys: ResolvedKeys): ServiceConfig {
  const publicUrl = withPort(input.publicUrl, port);
  return {
    ...input,
    port,
    publicUrl,
    publicOrigin: new URL(publicUrl).origin,
    secretKey: keys.secretKey,
    encryptionKeys: keys.encryptionKeys,
    airtable: { ...input.airtable, redirectUri: `${publicUrl}${CALLBACK_PATH}` },
    integrations: input.integrations.map((integration) => ({
      ...integration,
      airtable: { ...integration.airtable, redirectUri: `${publicUrl}${CALLBACK_PATH}` },
    })),
  };
}

/** In demo mode, starts the emulator and points `config.airtable` at it; otherwise changes nothing. */
async function startDemoIfAsked(
  config: ServiceConfig,
  options: StartServiceOptions,
  start: StartContext,
): Promise<{ config: ServiceConfig; emulator: RunningEmulator | null }> {
  if (!config.demo) return { config, emulator: null };
  const stateFile = demoEmulatorStatePath(config.databaseUrl);
  if (stateFile !== undefined) start.footprint.file(stateFile);
  const running = await startDemoEmulator(config, config.port, options.demoEmulator);
  start.shutdown.cleanup(() => running.close());
  const atEmulator = { oauthUrl: running.url, apiUrl: running.url };
  return {
    config: {
      ...config,
      airtable: { ...config.airtable, ...atEmulator },
      integrations: config.integrations.map((i) => ({ ...i, airtable: { ...i.airtable, ...atEmulator } })),
    },
    emulator: running,
  };
}

/**
 * Every integration's OAuth client, rotation journal and token manager, with journaled rotations
 * applied: `default` (AIRTABLE_*) first, journaling in the journal folder itself, each other one in
 * `integrations/<id>/` under it (a journal entry names only its identifier).
 */
async function startIntegrations(
  config: ServiceConfig,
  store: Store,
  keyring: ReturnType<typeof parseEncryptionKeys>,
  start: StartContext,
): Promise<{ integrations: Integrations; stored: StoredIntegrationSync; journalDir: string }> {
  const journalDir = resolve(config.refresh.journalDir);
  const build = async (entry: IntegrationConfig, source: IntegrationSource): Promise<Integration> => {
    const dir = entry.id === DEFAULT_INTEGRATION ? journalDir : join(journalDir, "integrations", entry.id);
    const view = store.forIntegration(entry.id);
    const { oauth, tokens } = await startTokens(config, entry.airtable, view, { dir, keyring }, start);
    const { id, name } = entry;
    return {
      id,
      name,
      clientId: entry.airtable.clientId,
      scopes: entry.airtable.scopes,
      source,
      oauth,
      tokens,
      store: view,
    };
  };
  const all = [
    await build({ id: DEFAULT_INTEGRATION, name: "Default", airtable: config.airtable }, "environment"),
  ];
  for (const entry of config.integrations) all.push(await build(entry, "file"));
  const integrations = new Integrations(all);
  const stored = storedIntegrationSync({
    integrations,
    store,
    logger: start.logger,
    // An integration created through the API shares the callback and Airtable URLs like the file's.
    build: (entry) =>
      build(
        {
          id: entry.id,
          name: entry.name,
          airtable: {
            ...config.airtable,
            clientId: entry.clientId,
            clientSecret: entry.clientSecret ?? undefined,
            scopes: entry.scopes,
          },
        },
        "api",
      ),
  });
  await stored.sync(true);
  integrations.setSync((force) => stored.sync(force));
  return { integrations, stored, journalDir };
}

/** One integration's OAuth client, rotation journal and token manager, with journaled rotations applied. */
async function startTokens(
  config: ServiceConfig,
  airtable: ServiceConfig["airtable"],
  store: Store,
  journalAt: { dir: string; keyring: ReturnType<typeof parseEncryptionKeys> },
  start: StartContext,
) {
  const { logger, now, metrics } = start;
  const oauth = new AirtableOAuth(airtable, { now });
  const journalDir = journalAt.dir;
  start.footprint.dir(journalDir);
  start.footprint.file(join(journalDir, JOURNAL_BALLAST));
  const journal = await FileRotationJournal.open(journalDir, {
    keyring: journalAt.keyring,
    logger,
    integration: store.integration,
  });
  const tokens = new TokenManager({
    store,
    refresher: oauth,
    now,
    logger,
    metrics,
    refreshTimeoutMs: config.refresh.timeoutMs,
    leaseMs: config.refresh.leaseMs,
    tokenWaitMs: config.refresh.tokenWaitMs,
    journal,
  });
  start.shutdown.tokens((deadline) => tokens.close({ deadlineMs: deadline.remainingMs() }));
  // A rotation an earlier process journaled but never saved is applied before anything is served.
  const recovered = await tokens.recoverJournal();
  if (recovered > 0) logger.warn({ recovered, journal: journal.location }, "journaled rotations applied");
  return { oauth, tokens };
}

/** Keep-alive (tokens and Airtable webhooks), webhook delivery and the purge; each is stopped first at shutdown. */
/** How often every instance reads the integrations created through the API (keep-alive starts for new ones). */
const STORED_INTEGRATIONS_SYNC_MS = 5000;

/** One keep-alive loop per integration, including those created through the API later. */
function startKeepAlives(
  ctx: ServiceContext,
  options: StartServiceOptions,
  shutdown: Shutdown,
  stored: StoredIntegrationSync,
): void {
  const { config, logger, now } = ctx;
  const loops = new Map<string, { stop(): Promise<void> | void }>();
  const startFor = (integration: Integration) => {
    const keepAlive = startKeepAlive({
      store: integration.store,
      tokenManager: integration.tokens,
      keepAliveDays: config.keepAliveDays,
      intervalMs: options.keepAliveIntervalMs ?? config.keepAliveIntervalSeconds * 1000,
      concurrency: 4,
      logger,
      now,
    });
    loops.set(integration.id, keepAlive);
  };
  for (const integration of ctx.integrations.list()) startFor(integration);
  stored.setHooks({
    added: startFor,
    removed: (integration) => {
      void loops.get(integration.id)?.stop();
      loops.delete(integration.id);
    },
  });
  shutdown.background(async () => {
    await Promise.all([...loops.values()].map((loop) => loop.stop()));
  });
}

function startBackgroundLoops(
  ctx: ServiceContext,
  options: StartServiceOptions,
  shutdown: Shutdown,
  stored: StoredIntegrationSync,
): void {
  const { config, store, logger, now } = ctx;
  if (options.keepAlive !== false) startKeepAlives(ctx, options, shutdown, stored);
  const stopSync = stored.every(STORED_INTEGRATIONS_SYNC_MS);
  shutdown.background(stopSync);
  if (config.webhook) {
    const delivery = startWebhookDelivery({
      store,
      url: config.webhook.url,
      secret: config.webhook.secret,
      metrics: ctx.metrics,
      logger,
      now,
      ...(options.webhookPollIntervalMs ? { pollIntervalMs: options.webhookPollIntervalMs } : {}),
    });
    shutdown.background(() => delivery.stop());
  }
  if (options.keepAlive !== false) {
    const intervalMs = options.keepAliveIntervalMs ?? config.keepAliveIntervalSeconds * 1000;
    const keeper = startAirtableWebhookKeeper(ctx, intervalMs);
    shutdown.background(() => keeper.stop());
  }
  // Pings start work too; what is in flight finishes (each page it saved is already durable).
  shutdown.background(() => ctx.airtableWebhooks.stop());
  const purge = startPurge(ctx, options.purgeIntervalMs ?? 10 * 60 * 1000);
  shutdown.background(() => clearInterval(purge));
}

/** Periodically deletes expired one-time rows and events past the retention window. */
function startPurge(ctx: ServiceContext, intervalMs: number): NodeJS.Timeout {
  const { config, store, logger, now } = ctx;
  const retentionMs = config.eventRetentionDays * 24 * 3600_000;
  const purge = setInterval(() => {
    store
      .purgeExpired(now())
      .catch((error: unknown) => logger.warn({ err: error }, "purge of expired rows failed"));
    store
      .pruneEvents({ before: new Date(now().getTime() - retentionMs) })
      .then((pruned) => {
        if (pruned > 0)
          logger.info({ pruned, retentionDays: config.eventRetentionDays }, "old events pruned");
      })
      .catch((error: unknown) => logger.warn({ err: error }, "pruning old events failed"));
  }, intervalMs);
  purge.unref();
  return purge;
}

/** The start log line. */
function logStarted(ctx: ServiceContext, storage: ServiceStorage, keys: ResolvedKeys): void {
  ctx.logger.info(
    {
      url: ctx.config.publicUrl,
      store: ctx.store.kind,
      demo: ctx.config.demo,
      database: storage.database,
      keys: storage.keysFile ?? "environment",
      journal: storage.journalDir,
      created: [...(storage.databaseCreated ? ["database"] : []), ...(keys.created ? ["keys"] : [])],
    },
    "airlock service started",
  );
}

/**
 * Starts the whole service and resolves once it accepts requests.
 */
export async function startService(
  input: ServiceConfig,
  options: StartServiceOptions = {},
): Promise<RunningService> {
  const logger = options.logger ?? createLogger({ name: "airlock" });
  const start: StartContext = {
    logger,
    now: options.now ?? (() => new Date()),
    metrics: createMetrics(),
    footprint: new StartFootprint(),
    shutdown: new Shutdown(input.shutdownTimeoutMs, logger),
  };
  const startup = startupGate();
  try {
    // Listen first: a busy port fails the start before anything is created on disk, and with
    // PORT=0 the public URL (and so the redirect URI) is only known afterwards.
    const server = await listenFirst(input, startup, start.shutdown);
    const { keys, keyring, store, databaseCreated } = await openStoreAndKeyring(input, start);
    const withKeys = configWithPortAndKeys(input, server.port, keys);
    const { config, emulator } = await startDemoIfAsked(withKeys, options, start);
    const { integrations, stored, journalDir } = await startIntegrations(config, store, keyring, start);
    const parts = {
      config,
      store,
      tokens: integrations.default.tokens,
      oauth: integrations.default.oauth,
      integration: integrations.default,
      integrations,
      metrics: start.metrics,
      logger,
      demo: emulator ? { emulatorUrl: emulator.url } : null,
      now: start.now,
    };
    const ctx: ServiceContext = { ...parts, airtableWebhooks: new AirtableWebhookWorker(parts) };
    const built = createApp(ctx);
    start.shutdown.cleanup((deadline) => built.close(deadline.remainingMs()));
    server.serve(built.app);
    startup.done();
    startBackgroundLoops(ctx, options, start.shutdown, stored);

    const storage: ServiceStorage = {
      database: describeDatabase(config.databaseUrl),
      databaseCreated,
      keysFile: keys.file,
      keysCreated: keys.created,
      secretKeyFromEnv: input.secretKey !== null,
      journalDir,
    };
    logStarted(ctx, storage, keys);
    return {
      url: config.publicUrl,
      ctx,
      app: built.app,
      emulator,
      demoKeysCreated: keys.created,
      storage,
      close: () => start.shutdown.run(),
    };
  } catch (error) {
    startup.done();
    await start.shutdown.run();
    start.footprint.undo();
    throw error;
  }
}

/** How long a request that arrives during startup waits for the service before a 503. */
const STARTUP_WAIT_MS = 10_000;

interface StartupGate {
  done(): void;
  within(ms: number): Promise<void>;
}

/** Resolves waiters once startup has finished (or failed), or when their wait runs out. */
function startupGate(): StartupGate {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return {
    done: () => open(),
    within: async (ms) => {
      await within(opened, ms);
    },
  };
}

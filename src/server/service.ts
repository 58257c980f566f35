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
import { createMetrics } from "../shared/metrics.js";
import { within } from "../shared/timers.js";
import { parseEncryptionKeys } from "../store/crypto.js";
import { openStore } from "../store/index.js";
import { FileRotationJournal } from "../store/journal.js";
import type { Store } from "../store/types.js";
import { startKeepAlive } from "../tokens/keep-alive.js";
import { TokenManager } from "../tokens/token-manager.js";
import { createApp } from "./app.js";
import { CALLBACK_PATH, DEMO_CLIENT_ID, type HttpServerConfig, type ServiceConfig } from "./config.js";
import type { ServiceContext } from "./context.js";
import { describeDatabase, StartFootprint, sqliteFile } from "./data-dir.js";
import { demoEmulatorStatePath, demoKeysPath, loadOrCreateDemoKeys } from "./demo-keys.js";
import type { AppEnv } from "./request-log.js";
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
 * Starts the whole service and resolves once it accepts requests.
 *
 * @example
 * const service = await startService(readServiceConfig(process.env));
 * console.error(`listening on ${service.url}`);
 * await service.close();
 */
export async function startService(
  input: ServiceConfig,
  options: StartServiceOptions = {},
): Promise<RunningService> {
  const logger = options.logger ?? createLogger({ name: "airlock" });
  const now = options.now ?? (() => new Date());
  const metrics = createMetrics();
  // What this start creates on disk, removed again if the start fails.
  const footprint = new StartFootprint();
  // Shutdown runs in reverse start order, except that background loops stop first and the HTTP
  // server closes right after them (no new requests while the rest goes down).
  const cleanups: Array<(deadline: Deadline) => Promise<void> | void> = [];
  const background: Array<() => Promise<void> | void> = [];
  let closeServer: ((deadline: Deadline) => Promise<void>) | null = null;
  let closeTokens: ((deadline: Deadline) => Promise<void>) | null = null;
  const run = async (step: () => Promise<void> | void) => {
    try {
      await step();
    } catch (error) {
      logger.warn({ err: error }, "shutdown step failed");
    }
  };
  // One deadline for the whole shutdown: background loops stop (in-flight webhook deliveries
  // finish), the HTTP server stops accepting and answers what it has, in-flight refreshes and the
  // saves of their rotations finish (or stay journaled), then the rest closes.
  const startup = startupGate();
  const cleanup = async () => {
    const deadline = startDeadline(input.shutdownTimeoutMs);
    for (const step of background.splice(0)) await run(step);
    const server = closeServer;
    closeServer = null;
    if (server) await run(() => server(deadline));
    const tokens = closeTokens;
    closeTokens = null;
    if (tokens) await run(() => tokens(deadline));
    for (const step of cleanups.splice(0).reverse()) await run(() => step(deadline));
  };

  try {
    // Listen first: a busy port fails the start before anything is created on disk, and with
    // PORT=0 the public URL (and so the redirect URI) is only known afterwards.
    let app: {
      fetch: (request: Request, env: HttpBindings | Http2Bindings) => Response | Promise<Response>;
    } | null = null;
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
    closeServer = (deadline) => {
      draining = true;
      return drain(server, deadline);
    };

    const keys = resolveKeys(input, footprint);
    const keyring = parseEncryptionKeys(keys.encryptionKeys);
    const sqlitePath = sqliteFile(input.databaseUrl);
    const databaseCreated = sqlitePath !== undefined && footprint.sqlite(sqlitePath);
    const store: Store = await openStore(input.databaseUrl, {
      keyring,
      webhookEvents: input.webhook?.events ?? null,
      logger,
      onFailure: metrics.recordStoreFailure,
    });
    cleanups.push(() => store.close());
    const publicUrl = withPort(input.publicUrl, port);
    let config: ServiceConfig = {
      ...input,
      port,
      publicUrl,
      publicOrigin: new URL(publicUrl).origin,
      secretKey: keys.secretKey,
      encryptionKeys: keys.encryptionKeys,
      airtable: { ...input.airtable, redirectUri: `${publicUrl}${CALLBACK_PATH}` },
    };

    let emulator: RunningEmulator | null = null;
    if (config.demo) {
      const stateFile = demoEmulatorStatePath(config.databaseUrl);
      if (stateFile !== undefined) footprint.file(stateFile);
      const running = await startDemoEmulator(config, port, options.demoEmulator);
      emulator = running;
      cleanups.push(() => running.close());
      config = { ...config, airtable: { ...config.airtable, oauthUrl: running.url, apiUrl: running.url } };
    }

    const oauth = new AirtableOAuth(config.airtable, { now });
    const journalDir = resolve(config.refresh.journalDir);
    footprint.dir(journalDir);
    footprint.file(join(journalDir, JOURNAL_BALLAST));
    const journal = await FileRotationJournal.open(journalDir, { keyring, logger });
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
    closeTokens = (deadline) => tokens.close({ deadlineMs: deadline.remainingMs() });
    // A rotation an earlier process journaled but never saved is applied before anything is served.
    const recovered = await tokens.recoverJournal();
    if (recovered > 0) logger.warn({ recovered, journal: journal.location }, "journaled rotations applied");

    const ctx: ServiceContext = {
      config,
      store,
      tokens,
      oauth,
      metrics,
      logger,
      demo: emulator ? { emulatorUrl: emulator.url } : null,
      now,
    };
    const built = createApp(ctx);
    cleanups.push((deadline) => built.close(deadline.remainingMs()));
    app = built.app;
    startup.done();

    if (options.keepAlive !== false) {
      const keepAlive = startKeepAlive({
        store,
        tokenManager: tokens,
        keepAliveDays: config.keepAliveDays,
        intervalMs: options.keepAliveIntervalMs ?? config.keepAliveIntervalSeconds * 1000,
        concurrency: 4,
        logger,
        now,
      });
      background.push(() => keepAlive.stop());
    }
    if (config.webhook) {
      const delivery = startWebhookDelivery({
        store,
        url: config.webhook.url,
        secret: config.webhook.secret,
        metrics,
        logger,
        now,
        ...(options.webhookPollIntervalMs ? { pollIntervalMs: options.webhookPollIntervalMs } : {}),
      });
      background.push(() => delivery.stop());
    }
    const retentionMs = config.eventRetentionDays * 24 * 3600_000;
    const purge = setInterval(
      () => {
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
      },
      options.purgeIntervalMs ?? 10 * 60 * 1000,
    );
    purge.unref();
    background.push(() => clearInterval(purge));

    const storage: ServiceStorage = {
      database: describeDatabase(config.databaseUrl),
      databaseCreated,
      keysFile: keys.file,
      keysCreated: keys.created,
      secretKeyFromEnv: input.secretKey !== null,
      journalDir,
    };
    logger.info(
      {
        url: publicUrl,
        store: store.kind,
        demo: config.demo,
        database: storage.database,
        keys: storage.keysFile ?? "environment",
        journal: journalDir,
        created: [...(databaseCreated ? ["database"] : []), ...(keys.created ? ["keys"] : [])],
      },
      "airlock service started",
    );
    return {
      url: publicUrl,
      ctx,
      app: built.app,
      emulator,
      demoKeysCreated: keys.created,
      storage,
      close: cleanup,
    };
  } catch (error) {
    startup.done();
    await cleanup();
    footprint.undo();
    throw error;
  }
}

/** How long a request that arrives during startup waits for the service before a 503. */
const STARTUP_WAIT_MS = 10_000;

/** Resolves waiters once startup has finished (or failed), or when their wait runs out. */
function startupGate(): { done(): void; within(ms: number): Promise<void> } {
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

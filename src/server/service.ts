/**
 * `startService`: everything `airlock serve` runs, in-process (tests and the CLI both use it):
 * keys, store, HTTP server, demo emulator, OAuth client, token manager, app, keep-alive, webhooks,
 * and the periodic purge of expired one-time rows.
 */
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { createAdaptorServer, type Http2Bindings, type HttpBindings } from "@hono/node-server";
import type { OpenAPIHono } from "@hono/zod-openapi";
import { AirtableOAuth } from "../airtable/oauth.js";
import { type EmulatorOptions, type RunningEmulator, startEmulator } from "../emulator/index.js";
import { AirlockError } from "../errors.js";
import { createLogger, type Logger } from "../log.js";
import { createMetrics } from "../metrics.js";
import { parseEncryptionKeys } from "../store/crypto.js";
import { openStore } from "../store/index.js";
import { FileRotationJournal } from "../store/journal.js";
import type { Store } from "../store/types.js";
import { startKeepAlive } from "../tokens/keep-alive.js";
import { TokenManager } from "../tokens/token-manager.js";
import { createApp } from "./app.js";
import { CALLBACK_PATH, DEMO_CLIENT_ID, type ServiceConfig } from "./config.js";
import type { ServiceContext } from "./context.js";
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
  close(): Promise<void>;
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

function resolveKeys(config: ServiceConfig): { secretKey: string; encryptionKeys: string; created: boolean } {
  if (config.secretKey !== null && config.encryptionKeys !== null) {
    return { secretKey: config.secretKey, encryptionKeys: config.encryptionKeys, created: false };
  }
  if (!config.demo) {
    throw new AirlockError("config_invalid", "AIRLOCK_SECRET_KEY and AIRLOCK_ENCRYPTION_KEYS are required.", {
      hint: "Set both (see the README's service section); only demo mode generates them.",
    });
  }
  const kept = loadOrCreateDemoKeys(demoKeysPath(config.databaseUrl));
  return {
    secretKey: config.secretKey ?? kept.secretKey,
    encryptionKeys: config.encryptionKeys ?? kept.encryptionKeys,
    created: kept.created,
  };
}

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
  const keys = resolveKeys(input);
  const keyring = parseEncryptionKeys(keys.encryptionKeys);
  const metrics = createMetrics();
  // Shutdown runs in reverse start order, except that background loops stop first and the HTTP
  // server closes right after them (no new requests while the rest goes down).
  const cleanups: Array<() => Promise<void> | void> = [];
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
  const cleanup = async () => {
    const deadline = startDeadline(input.shutdownTimeoutMs);
    for (const step of background.splice(0)) await run(step);
    const server = closeServer;
    closeServer = null;
    if (server) await run(() => server(deadline));
    const tokens = closeTokens;
    closeTokens = null;
    if (tokens) await run(() => tokens(deadline));
    for (const step of cleanups.splice(0).reverse()) await run(step);
  };

  try {
    const store: Store = await openStore(input.databaseUrl, {
      keyring,
      webhookEvents: input.webhook?.events ?? null,
      logger,
      onFailure: metrics.recordStoreFailure,
    });
    cleanups.push(() => store.close());

    // Listen first: with PORT=0 the public URL (and so the redirect URI) is only known afterwards.
    let app: {
      fetch: (request: Request, env: HttpBindings | Http2Bindings) => Response | Promise<Response>;
    } | null = null;
    let draining = false;
    const server = createAdaptorServer({
      fetch: (request: Request, env: HttpBindings | Http2Bindings) => {
        // While draining, every answer closes its connection, so clients reconnect elsewhere.
        if (draining && "shouldKeepAlive" in env.outgoing) env.outgoing.shouldKeepAlive = false;
        return app
          ? app.fetch(request, env)
          : Response.json(
              { error: { code: "transient", message: "Airlock is starting.", hint: "Retry in a moment." } },
              { status: 503, headers: { "Retry-After": "1" } },
            );
      },
    });
    const port = await listen(server, input.port, input.host);
    closeServer = (deadline) => {
      draining = true;
      return drain(server, deadline);
    };
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
      const running = await startDemoEmulator(config, port, options.demoEmulator);
      emulator = running;
      cleanups.push(() => running.close());
      config = { ...config, airtable: { ...config.airtable, oauthUrl: running.url, apiUrl: running.url } };
    }

    const oauth = new AirtableOAuth(config.airtable, { now });
    const journal = await FileRotationJournal.open(config.refresh.journalDir, { keyring, logger });
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
    cleanups.push(() => built.close());
    app = built.app;

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
    const purge = setInterval(
      () => {
        store
          .purgeExpired(now())
          .catch((error: unknown) => logger.warn({ err: error }, "purge of expired rows failed"));
      },
      options.purgeIntervalMs ?? 10 * 60 * 1000,
    );
    purge.unref();
    background.push(() => clearInterval(purge));

    logger.info({ url: publicUrl, store: store.kind, demo: config.demo }, "airlock service started");
    return {
      url: publicUrl,
      ctx,
      app: built.app,
      emulator,
      demoKeysCreated: keys.created,
      close: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/**
 * Keep-alive: refresh every active connection at least every `keepAliveDays`, far inside
 * Airtable's 60-day refresh-token window. Safe to run on every instance at once: each refresh goes
 * through the TokenManager's lease, and a connection another instance just refreshed is no longer
 * due (the forced refresh is conditional on `refreshedBefore`).
 */
import { type Logger, silentLogger } from "../shared/log.js";
import type { Store } from "../store/types.js";
import type { TokenManager } from "./token-manager.js";

const DAY_MS = 24 * 60 * 60_000;
const BATCH = 100;
/** Upper bound of connections handled per run; the next run picks up the rest. */
const MAX_PER_RUN = 5_000;

export interface KeepAliveOptions {
  store: Pick<Store, "listDueForKeepAlive">;
  tokenManager: Pick<TokenManager, "getAccessToken">;
  /** Refresh connections whose tokens are older than this many days (default 7). */
  keepAliveDays?: number | undefined;
  /** Time between runs (default 10 minutes; each run is jittered by up to 10%). */
  intervalMs?: number | undefined;
  /** Refreshes in flight at once (default 4). */
  concurrency?: number | undefined;
  logger?: Logger | undefined;
  now?: (() => Date) | undefined;
  /** Start with a run right away (default true); else the first run waits one interval. */
  runAtStart?: boolean | undefined;
}

export interface KeepAlive {
  /** Stops the schedule and waits for a run in progress. */
  stop(): Promise<void>;
  /** One pass over the due connections; resolves with how many were refreshed (or found fresh). */
  runOnce(): Promise<number>;
}

/**
 * @example
 * const keepAlive = startKeepAlive({ store, tokenManager, keepAliveDays: 7, logger });
 * // on shutdown:
 * await keepAlive.stop();
 */
export function startKeepAlive(options: KeepAliveOptions): KeepAlive {
  const log = options.logger ?? silentLogger;
  const now = options.now ?? (() => new Date());
  const days = options.keepAliveDays ?? 7;
  const intervalMs = options.intervalMs ?? 10 * 60_000;
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 4));
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<number> | null = null;
  let stopped = false;

  const runOnce = (): Promise<number> => {
    running ??= pass().finally(() => {
      running = null;
    });
    return running;
  };

  async function pass(): Promise<number> {
    const refreshedBefore = new Date(now().getTime() - days * DAY_MS);
    const seen = new Set<string>();
    let refreshed = 0;
    let failed = 0;
    while (!stopped && seen.size < MAX_PER_RUN) {
      // Failed ones stay due and sort first: widen the window past what this run already tried.
      const limit = seen.size + BATCH;
      const due = await options.store.listDueForKeepAlive({ refreshedBefore, limit });
      const fresh = due.filter((id) => !seen.has(id));
      if (fresh.length === 0) break;
      for (const id of fresh) seen.add(id);
      await forEachLimited(fresh, concurrency, async (identifier) => {
        try {
          await options.tokenManager.getAccessToken(identifier, { force: true, refreshedBefore });
          refreshed++;
        } catch (err) {
          failed++;
          log.warn({ identifier, err: describe(err) }, "keep-alive refresh failed");
        }
      });
      if (due.length < limit) break;
    }
    if (seen.size > 0) log.info({ due: seen.size, refreshed, failed }, "keep-alive run finished");
    return refreshed;
  }

  const schedule = (delayMs: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = null;
      runOnce()
        .catch((err: unknown) => log.error({ err: describe(err) }, "keep-alive run failed"))
        .finally(() => schedule(intervalMs * (0.9 + Math.random() * 0.2)));
    }, delayMs);
    timer.unref();
  };
  schedule(options.runAtStart === false ? intervalMs : 0);

  return {
    runOnce,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await running?.catch(() => undefined);
    },
  };
}

async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function describe(err: unknown): { code?: string; message: string } {
  const code = (err as { code?: unknown } | null)?.code;
  return {
    message: err instanceof Error ? err.message : String(err),
    ...(typeof code === "string" ? { code } : {}),
  };
}

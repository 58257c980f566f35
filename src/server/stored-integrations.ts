/**
 * Integrations created through the API live in the store, so every instance must pick them up:
 * this keeps an instance's {@link Integrations} in step with the `integrations` table. A sync reads
 * the table once and adds (builds) what is new and removes what was deleted; syncs never overlap,
 * and the ones `resolve` triggers for an unknown id run at most once a second.
 */
import type { Logger } from "../shared/log.js";
import type { StoredIntegration } from "../store/types.js";
import type { Integration, Integrations } from "./integrations.js";

/** How often a request for an unknown integration may make this instance read the table again. */
const MISS_SYNC_INTERVAL_MS = 1000;

export interface StoredIntegrationHooks {
  /** An integration was added after start (the keep-alive loop starts for it). */
  added(integration: Integration): void;
  /** A stored integration was deleted (its keep-alive loop stops). */
  removed(integration: Integration): void;
}

export interface StoredIntegrationSync {
  /** Reads the table and applies it; `force` skips the once-a-second limit and waits for a fresh read. */
  sync(force: boolean): Promise<void>;
  /** Also sync every `intervalMs` (errors are logged); returns the stop function. */
  every(intervalMs: number): () => void;
  /** What to do for integrations added or removed from now on. */
  setHooks(hooks: StoredIntegrationHooks): void;
}

/**
 * @example
 * const stored = storedIntegrationSync({ integrations, store, build, logger });
 * await stored.sync(true);
 * integrations.setSync(() => stored.sync(false));
 */
export function storedIntegrationSync(options: {
  integrations: Integrations;
  store: { listStoredIntegrations(): Promise<StoredIntegration[]> };
  build(stored: StoredIntegration): Promise<Integration>;
  logger: Logger;
}): StoredIntegrationSync {
  const { integrations, store, build, logger } = options;
  let hooks: StoredIntegrationHooks = { added: () => {}, removed: () => {} };
  let running: Promise<void> | null = null;
  let lastMs = 0;

  const apply = async (): Promise<void> => {
    const stored = await store.listStoredIntegrations();
    const ids = new Set(stored.map((s) => s.id));
    for (const entry of stored) {
      if (integrations.find(entry.id)) continue;
      const integration = await build(entry);
      integrations.add(integration);
      hooks.added(integration);
      logger.info({ integration: entry.id }, "integration created through the API is now served");
    }
    for (const integration of integrations.list()) {
      if (integration.source !== "api" || ids.has(integration.id)) continue;
      integrations.remove(integration.id);
      hooks.removed(integration);
      logger.info({ integration: integration.id }, "integration deleted through the API is no longer served");
    }
  };

  const sync = (force: boolean): Promise<void> => {
    // A forced sync must read after the caller's write: one already running may have read before it.
    if (running) return force ? running.then(() => sync(true)) : running;
    if (!force && Date.now() - lastMs < MISS_SYNC_INTERVAL_MS) return Promise.resolve();
    running = apply().finally(() => {
      lastMs = Date.now();
      running = null;
    });
    return running;
  };

  return {
    sync,
    every(intervalMs) {
      const timer = setInterval(() => {
        sync(true).catch((error: unknown) =>
          logger.warn({ err: error }, "could not read the stored integrations"),
        );
      }, intervalMs);
      timer.unref();
      return () => clearInterval(timer);
    },
    setHooks(next) {
      hooks = next;
    },
  };
}

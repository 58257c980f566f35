/**
 * The Airtable webhook keeper: every AIRLOCK_KEEPALIVE_INTERVAL_SECONDS, each instance looks for
 * webhooks with work due (a refresh, an uncovered ping, a poll) and does it through the worker,
 * whose leases keep the instances from doing the same work twice. This is what refreshes every
 * webhook well inside Airtable's 7 days, catches pings a dead instance took, and resumes a
 * connection's webhooks once it is reconnected.
 */
import type { ServiceContext } from "../context.js";
import { POLL_EVERY_MS, REFRESH_WHEN_LEFT_MS } from "./worker.js";

const BATCH = 100;
/** A creation still unanswered after this long was given up (its request timed out long ago). */
const ABANDONED_AFTER_MS = 5 * 60_000;
/** Webhooks worked on at once per instance. */
const CONCURRENCY = 4;

export interface AirtableWebhookKeeper {
  /** One sweep; resolves to how many webhooks had work due. */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

export function startAirtableWebhookKeeper(ctx: ServiceContext, intervalMs: number): AirtableWebhookKeeper {
  const worker = ctx.airtableWebhooks;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<number> | null = null;

  const sweep = async (): Promise<number> => {
    const now = ctx.now();
    const due = await ctx.store.listAirtableWebhooksDue({
      now,
      refreshBefore: new Date(now.getTime() + REFRESH_WHEN_LEFT_MS),
      pollBefore: new Date(now.getTime() - POLL_EVERY_MS),
      limit: BATCH,
    });
    let next = 0;
    const lane = async () => {
      while (next < due.length && !stopped) await worker.work(due[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, due.length) }, lane));
    const abandoned = await ctx.store.listAbandonedAirtableWebhooks(
      new Date(now.getTime() - ABANDONED_AFTER_MS),
      BATCH,
    );
    for (const webhook of abandoned) if (!stopped) await worker.abandonCreation(webhook);
    return due.length;
  };

  const runOnce = (): Promise<number> => {
    running ??= sweep().finally(() => {
      running = null;
    });
    return running;
  };

  const schedule = (delayMs: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = null;
      runOnce()
        .catch((error: unknown) => ctx.logger.warn({ err: error }, "Airtable webhook sweep failed"))
        .finally(() => schedule(intervalMs * (0.9 + Math.random() * 0.2)));
    }, delayMs);
    timer.unref();
  };
  schedule(0);

  return {
    runOnce,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running?.catch(() => undefined);
    },
  };
}

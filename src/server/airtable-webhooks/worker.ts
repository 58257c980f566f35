/**
 * The work on one Airtable webhook, under its lease (one instance at a time, whatever the number
 * of instances and pings):
 *
 * - **fetch**: page through the payloads from the stored cursor; each page is queued in the
 *   outbox in the transaction that moves the cursor, fenced on the cursor and the lease, so a
 *   crash anywhere loses nothing (the next holder starts from the stored cursor) and a stale
 *   holder duplicates nothing (its save is refused). Pings that arrive meanwhile are counted and
 *   make the holder go round again.
 * - **refresh**: extend the webhook's life (Airtable disables it 7 days after creation or the last
 *   refresh); a webhook Airtable no longer has becomes `expired` or `deleted_upstream`, with one
 *   `airtable.webhook_lost` event.
 *
 * In-process, concurrent triggers of the same webhook share one run.
 */
import { randomBytes } from "node:crypto";
import { type AirtableApi, type AirtablePayloadsPage, RATE_LIMIT_WAIT_MS } from "../../airtable/api.js";
import { isAirlockError } from "../../shared/errors.js";
import { sleep } from "../../shared/timers.js";
import type { AirtableWebhookRecord, AirtableWebhookRelease, NewEvent } from "../../store/types.js";
import type { AirtableWebhookWork, ServiceContext } from "../context.js";
import { airtableApiFor, describe, judgeFailure } from "./upstream.js";

/** Refresh once less than this much of the 7 days is left: about daily, far from the edge. */
export const REFRESH_WHEN_LEFT_MS = 6 * 24 * 3600_000;
/** Fetch without a ping when the last fetch is older than this (pings are best effort). */
export const POLL_EVERY_MS = 10 * 60_000;
/** Airtable's largest payload page. */
const PAGE_LIMIT = 50;

/** How long every instance leaves a webhook alone after a fetch that found nothing new. */
const EMPTY_ROUND_COOLDOWN_MS = 1000;

/** What one fetch round did: the pings it covers, and how many payloads it queued. */
interface FetchRound {
  coveredPings: number;
  payloads: number;
}

/**
 * Backoff after `failures` transient failures: 5 s doubling, capped at 10 minutes; Airtable's
 * 30-second penalty after a 429 (asking sooner only meets another 429).
 */
function backoffMs(failures: number, error: unknown): number {
  const exponential = Math.min(10 * 60_000, 5000 * 2 ** Math.min(failures, 10));
  return isAirlockError(error, "rate_limited") ? Math.max(RATE_LIMIT_WAIT_MS, exponential) : exponential;
}

/** What the worker needs: the whole service context but itself. */
export type WorkerContext = Omit<ServiceContext, "airtableWebhooks">;

export class AirtableWebhookWorker implements AirtableWebhookWork {
  readonly #ctx: WorkerContext;
  /** The lease owner: names this process (its pid), unique per start. */
  readonly owner = `awh-${process.pid}-${randomBytes(4).toString("hex")}`;
  readonly #running = new Map<string, Promise<void>>();
  /** One client per connection, so its per-base pacing spans this instance's fetches and refreshes. */
  readonly #apis = new Map<string, AirtableApi>();
  /** Triggers that arrived while a run was going: it goes round once more. */
  readonly #again = new Set<string>();
  #stopped = false;

  constructor(ctx: WorkerContext) {
    this.#ctx = ctx;
  }

  /** Refreshes the webhook if due, then fetches its payloads if due; shares a run in progress. */
  work(id: string): Promise<void> {
    const running = this.#running.get(id);
    if (running) {
      this.#again.add(id);
      return running;
    }
    const run = this.#run(id).finally(() => this.#running.delete(id));
    this.#running.set(id, run);
    return run;
  }

  /** No new runs; resolves once the ones in progress are done (each save is already durable). */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.allSettled([...this.#running.values()]);
  }

  async #run(id: string): Promise<void> {
    do {
      this.#again.delete(id);
      try {
        await this.#refreshIfDue(id);
        await this.#fetchWhileDue(id);
      } catch (error) {
        // A store outage: the lease expires and the keeper (here or elsewhere) tries again.
        this.#ctx.logger.warn({ webhook_id: id, err: error }, "Airtable webhook work failed");
      }
    } while (this.#again.has(id) && !this.#stopped);
  }

  /**
   * Cleans up after a creation that got no clear answer (a timeout, a crash between the request
   * and the save): Airtable may hold a webhook whose MAC secret nobody kept, which would count
   * against its 2 per base per integration. Deletes it upstream (found by its notification URL),
   * then the row. False when Airtable could not be asked: the keeper tries again later.
   */
  async abandonCreation(webhook: AirtableWebhookRecord): Promise<boolean> {
    try {
      const api = await this.#api(webhook);
      const { webhooks } = await api.listWebhooks(webhook.baseId);
      for (const orphan of webhooks.filter((w) => w.notificationUrl === webhook.notificationUrl)) {
        await api.deleteWebhook(webhook.baseId, orphan.id);
      }
    } catch (error) {
      this.#ctx.logger.warn(
        { webhook_id: webhook.id, error: describe(error) },
        "could not clean up an unfinished Airtable webhook creation; will retry",
      );
      return false;
    }
    return this.#ctx.store.deleteAbandonedAirtableWebhook(webhook.id);
  }

  /**
   * The Web API as the webhook's connection, with its integration's token manager (an integration
   * no longer configured is `not_found`: retried later, never another integration's token).
   */
  async #api(webhook: Pick<AirtableWebhookRecord, "integration" | "identifier">): Promise<AirtableApi> {
    const key = `${webhook.integration}/${webhook.identifier}`;
    let api = this.#apis.get(key);
    if (!api) {
      const { tokens } = await this.#ctx.integrations.require(webhook.integration);
      api = airtableApiFor({ config: this.#ctx.config, tokens }, webhook.identifier);
      this.#apis.set(key, api);
    }
    return api;
  }

  #lease(now: Date) {
    return { owner: this.owner, now, leaseMs: this.#ctx.config.airtableWebhookLeaseMs };
  }

  async #refreshIfDue(id: string): Promise<void> {
    const { store } = this.#ctx;
    const now = this.#ctx.now();
    const refreshBefore = new Date(now.getTime() + REFRESH_WHEN_LEFT_MS);
    const webhook = await store.claimAirtableWebhookLease(id, {
      ...this.#lease(now),
      work: { kind: "refresh", refreshBefore },
    });
    if (!webhook) return;
    try {
      const api = await this.#api(webhook);
      const { expirationTime } = await api.refreshWebhook(webhook.baseId, webhook.airtableWebhookId!);
      await this.#release(id, {
        kind: "refreshed",
        owner: this.owner,
        expirationTime: expirationTime ? new Date(expirationTime) : null,
        now: this.#ctx.now(),
      });
      this.#ctx.logger.debug(
        { webhook_id: id, expiration_time: expirationTime },
        "Airtable webhook refreshed",
      );
    } catch (error) {
      await this.#failed(webhook, error, "refresh");
    }
  }

  /**
   * Claims the fetch lease and pages until the end; again while pings keep coming, until stopped.
   * A round that found nothing new holds every instance off this webhook for a second first
   * (`next_attempt_at`), then this one looks again: a burst of pings (Airtable's, arriving at
   * every instance) costs one more fetch, not one per ping, and stays inside the base's 5 requests
   * per second that the app's own calls share.
   */
  async #fetchWhileDue(id: string): Promise<void> {
    const { store } = this.#ctx;
    while (!this.#stopped) {
      const now = this.#ctx.now();
      const webhook = await store.claimAirtableWebhookLease(id, {
        ...this.#lease(now),
        work: { kind: "fetch", pollBefore: new Date(now.getTime() - POLL_EVERY_MS) },
      });
      if (!webhook) return;
      let round: FetchRound | null;
      try {
        round = await this.#fetchToEnd(webhook);
        if (round === null) return;
      } catch (error) {
        await this.#failed(webhook, error, "fetch");
        return;
      }
      const at = this.#ctx.now();
      const released = await this.#release(id, {
        kind: "fetched",
        owner: this.owner,
        coveredPings: round.coveredPings,
        cooldownUntil: round.payloads === 0 ? new Date(at.getTime() + EMPTY_ROUND_COOLDOWN_MS) : null,
        now: at,
      });
      if (!released) return;
      if (round.payloads === 0) await sleep(EMPTY_ROUND_COOLDOWN_MS);
    }
  }

  /**
   * Pages from the stored cursor to the end. Resolves to the pings this covers: those counted
   * before the last page was asked for (a ping follows the change it announces, so that page read
   * past it); a burst of pings during a fetch therefore costs one more fetch at most, not one per
   * ping. Null when another holder fenced this one out, or on a shutdown between pages.
   */
  async #fetchToEnd(webhook: AirtableWebhookRecord): Promise<FetchRound | null> {
    const api = await this.#api(webhook);
    let cursor = webhook.cursor;
    let payloads = 0;
    for (;;) {
      const pings = (await this.#ctx.store.getAirtableWebhook(webhook.id))?.pings ?? webhook.pings;
      const page = await api.listWebhookPayloads(webhook.baseId, webhook.airtableWebhookId!, {
        cursor,
        limit: PAGE_LIMIT,
      });
      const saved = await this.#ctx.store.saveAirtablePayloadPage(webhook.id, {
        owner: this.owner,
        cursor,
        nextCursor: page.cursor,
        event: page.payloads.length > 0 ? payloadsEvent(webhook, cursor, page) : null,
        now: this.#ctx.now(),
        leaseMs: this.#ctx.config.airtableWebhookLeaseMs,
      });
      if (!saved) {
        this.#ctx.logger.info(
          { webhook_id: webhook.id, cursor },
          "another instance took over the payload fetch",
        );
        return null;
      }
      payloads += page.payloads.length;
      if (page.payloads.length > 0) {
        this.#ctx.metrics.airtablePayloads.inc(page.payloads.length);
      }
      if (!page.mightHaveMore || page.cursor === cursor) return { coveredPings: pings, payloads };
      cursor = page.cursor;
      if (this.#stopped) {
        // Shutting down: what is saved is durable; another instance goes on from the stored cursor.
        await this.#release(webhook.id, { kind: "yielded", owner: this.owner, now: this.#ctx.now() });
        return null;
      }
    }
  }

  async #failed(webhook: AirtableWebhookRecord, error: unknown, during: "fetch" | "refresh"): Promise<void> {
    const verdict = judgeFailure(error, during);
    const now = this.#ctx.now();
    const log = this.#ctx.logger;
    if (verdict.kind === "lost") {
      const event: NewEvent = {
        type: "airtable.webhook_lost",
        data: {
          webhook_id: webhook.id,
          airtable_webhook_id: webhook.airtableWebhookId,
          base_id: webhook.baseId,
          reason: verdict.status,
        },
      };
      await this.#release(webhook.id, {
        kind: "lost",
        owner: this.owner,
        status: verdict.status,
        event,
        now,
      });
      log.warn({ webhook_id: webhook.id, status: verdict.status }, "Airtable no longer has the webhook");
      return;
    }
    const nextAttemptAt = new Date(now.getTime() + backoffMs(webhook.failures, error));
    await this.#release(webhook.id, {
      kind: "failed",
      owner: this.owner,
      error: verdict.error,
      nextAttemptAt,
      now,
    });
    log.warn(
      { webhook_id: webhook.id, during, error: verdict.error, retry_at: nextAttemptAt.toISOString() },
      "Airtable webhook work failed; will retry",
    );
  }

  #release(id: string, release: AirtableWebhookRelease): Promise<boolean> {
    return this.#ctx.store.releaseAirtableWebhookLease(id, release);
  }
}

/** The outbox event of one page: delivered in cursor order per webhook (`ordering`). */
function payloadsEvent(webhook: AirtableWebhookRecord, cursor: number, page: AirtablePayloadsPage): NewEvent {
  return {
    type: "airtable.payloads",
    data: {
      webhook_id: webhook.id,
      airtable_webhook_id: webhook.airtableWebhookId,
      base_id: webhook.baseId,
      cursor,
      next_cursor: page.cursor,
      payloads: page.payloads,
    },
    ordering: { key: webhook.id, seq: cursor },
  };
}

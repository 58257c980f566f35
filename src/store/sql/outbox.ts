/**
 * The webhook outbox: events whose type is a webhook event wait here until delivered. Claims are
 * leased, so several instances never deliver the same event at once.
 */
import { type SelectQueryBuilder, sql } from "kysely";
import type { Database } from "../schema.js";
import type { OutboxClaim, OutboxFailure, OutboxItem } from "../types.js";
import type { SqlContext } from "./context.js";
import { toEvent } from "./rows.js";

/** How much of a delivery error is kept. */
const MAX_ERROR_LENGTH = 1000;

/** `Store.claimOutbox`: one atomic UPDATE of the due candidates; in id order. */
export async function claimOutbox(ctx: SqlContext, options: OutboxClaim): Promise<OutboxItem[]> {
  const at = options.now.getTime();
  const due = (
    query: SelectQueryBuilder<Database, "events", { id: string }>,
  ): SelectQueryBuilder<Database, "events", { id: string }> =>
    query
      .where("webhook_state", "=", "pending")
      .where("next_attempt_at", "<=", at)
      .where((eb) => eb.or([eb("lease_until", "is", null), eb("lease_until", "<=", at)]))
      // Ordered events wait for every earlier pending one of their key, leased or not.
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom("events as earlier")
              .select("earlier.id")
              .whereRef("earlier.ordering_key", "=", "events.ordering_key")
              .whereRef("earlier.ordering_seq", "<", "events.ordering_seq")
              .where("earlier.webhook_state", "=", "pending"),
          ),
        ),
      );
  const candidates = ctx.dialect.lockOutboxCandidates(
    due(ctx.db.selectFrom("events").select("id"))
      .orderBy("next_attempt_at")
      .orderBy("id")
      .limit(Math.max(1, Math.floor(options.limit))),
  );
  // One UPDATE ... WHERE id IN (due candidates) ... RETURNING: a single atomic statement. SQLite
  // serialises writers; PostgreSQL skips rows another claimer has locked and re-checks the due
  // condition on the rows it does get.
  const rows = await ctx.db
    .updateTable("events")
    .set({
      lease_owner: options.owner,
      lease_until: at + options.leaseMs,
      attempts: sql<number>`attempts + 1`,
    })
    .where("id", "in", candidates)
    .where("webhook_state", "=", "pending")
    .where((eb) => eb.or([eb("lease_until", "is", null), eb("lease_until", "<=", at)]))
    .returningAll()
    .execute();
  return rows
    .map((row) => ({ ...toEvent(row), attempts: Number(row.attempts) }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** `Store.markOutboxDelivered`. */
export async function markOutboxDelivered(ctx: SqlContext, id: string, now: Date): Promise<void> {
  await ctx.db
    .updateTable("events")
    .set({ webhook_state: "delivered", delivered_at: now.getTime(), lease_owner: null, lease_until: null })
    .where("id", "=", id)
    .execute();
}

/** `Store.markOutboxFailed`: the error is kept, truncated; the event stays pending. */
export async function markOutboxFailed(ctx: SqlContext, id: string, failure: OutboxFailure): Promise<void> {
  await ctx.db
    .updateTable("events")
    .set({
      next_attempt_at: failure.nextAttemptAt.getTime(),
      last_error: failure.error.slice(0, MAX_ERROR_LENGTH),
      lease_owner: null,
      lease_until: null,
    })
    .where("id", "=", id)
    .where("webhook_state", "=", "pending")
    .execute();
}

/**
 * Events: written in the same transaction as the change they record (and queued for webhook
 * delivery when their type is a webhook event), listed per connection (integration and identifier), and pruned for retention.
 */
import { randomBytes } from "node:crypto";
import type { Transaction } from "kysely";
import type { Database } from "../schema.js";
import type { EventRecord, ListEventsOptions, NewEvent, PruneEventsOptions } from "../types.js";
import type { SqlContext } from "./context.js";
import { type EventRow, parseMetadata, toEvent } from "./rows.js";

/**
 * Inserts `event` inside `trx`, created at `at` (epoch ms), for the connection `identifier` of
 * `integration` (default: the store's); in the outbox, due at once, when its type is a webhook
 * event. A `connection.*` event carries the connection's metadata as written in `trx`
 * (`data.metadata`, absent when it has none), so a webhook receiver needs no lookup.
 */
export async function insertEvent(
  ctx: SqlContext,
  trx: Transaction<Database>,
  identifier: string,
  event: NewEvent,
  at: number,
  integration: string = ctx.integration,
): Promise<EventRow> {
  const outbox = ctx.webhookEvents?.has(event.type) ?? false;
  const metadata = event.type.startsWith("connection.")
    ? await connectionMetadata(trx, integration, identifier)
    : null;
  const row = {
    id: nextEventId(ctx.now().getTime()),
    integration_id: integration,
    identifier,
    type: event.type,
    data: JSON.stringify(metadata === null ? (event.data ?? {}) : { ...event.data, metadata }),
    created_at: at,
    webhook_state: outbox ? ("pending" as const) : null,
    attempts: 0,
    next_attempt_at: outbox ? at : null,
    lease_owner: null,
    lease_until: null,
    last_error: null,
    delivered_at: null,
    ordering_key: event.ordering?.key ?? null,
    ordering_seq: event.ordering?.seq ?? null,
  };
  await trx.insertInto("events").values(row).execute();
  return row;
}

/** The connection's metadata column, parsed, as `trx` sees it (null: none, or no connection). */
async function connectionMetadata(trx: Transaction<Database>, integration: string, identifier: string) {
  const row = await trx
    .selectFrom("connections")
    .select("metadata")
    .where("integration_id", "=", integration)
    .where("identifier", "=", identifier)
    .executeTakeFirst();
  return parseMetadata(row?.metadata ?? null);
}

/** {@link Store.appendEvent}: an event on its own, created now by the store's clock. */
export async function appendEvent(
  ctx: SqlContext,
  identifier: string,
  event: NewEvent,
): Promise<EventRecord> {
  const row = await ctx.db
    .transaction()
    .execute((trx) => insertEvent(ctx, trx, identifier, event, ctx.now().getTime()));
  return toEvent(row);
}

/** {@link Store.listEvents}: newest first. */
export async function listEvents(
  ctx: SqlContext,
  identifier: string,
  options: ListEventsOptions,
): Promise<EventRecord[]> {
  const rows = await ctx.db
    .selectFrom("events")
    .selectAll()
    .where("integration_id", "=", ctx.integration)
    .where("identifier", "=", identifier)
    .orderBy("id", "desc")
    .limit(Math.max(1, Math.floor(options.limit)))
    .execute();
  return rows.map(toEvent);
}

/**
 * {@link Store.pruneEvents}: one short DELETE per batch (no long write lock on SQLite, no long row
 * locks on PostgreSQL): old rows that are not pending in the outbox and have a newer event of the
 * same identifier (found through `events_by_identifier`). Ids grow with time, so "newer" is a
 * larger id. Safe while other instances prune too: a row is only deleted while a newer one exists.
 */
export async function pruneEvents(ctx: SqlContext, options: PruneEventsOptions): Promise<number> {
  const cutoff = options.before.getTime();
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? 1000));
  let total = 0;
  for (;;) {
    const batch = ctx.db
      .selectFrom("events as old")
      .select("old.id")
      .where("old.created_at", "<", cutoff)
      .where((eb) => eb.or([eb("old.webhook_state", "is", null), eb("old.webhook_state", "!=", "pending")]))
      .where(({ exists, selectFrom }) =>
        exists(
          selectFrom("events as newer")
            .select("newer.id")
            .whereRef("newer.identifier", "=", "old.identifier")
            .whereRef("newer.integration_id", "=", "old.integration_id")
            .whereRef("newer.id", ">", "old.id"),
        ),
      )
      .limit(batchSize);
    const result = await ctx.db.deleteFrom("events").where("id", "in", batch).executeTakeFirst();
    const deleted = Number(result.numDeletedRows);
    total += deleted;
    if (deleted < batchSize) return total;
  }
}

let lastEventMs = 0;
let eventCounter = 0;

/**
 * `evt_` + 12 hex digits of milliseconds (`nowMs`, never going back within the process) + a
 * per-process counter + random bits: unique across instances (usable as a webhook-id) and sorting
 * in creation order within a process.
 */
function nextEventId(nowMs: number): string {
  let ms = Math.max(nowMs, lastEventMs);
  eventCounter = ms === lastEventMs ? eventCounter + 1 : 0;
  if (eventCounter > 0xffff) {
    ms += 1;
    eventCounter = 0;
  }
  lastEventMs = ms;
  return `evt_${ms.toString(16).padStart(12, "0")}${eventCounter.toString(16).padStart(4, "0")}${randomBytes(8).toString("hex")}`;
}

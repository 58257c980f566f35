/**
 * Airtable webhooks Airlock keeps for connections (server/airtable-webhooks/): the row, its
 * encrypted MAC secret, its lease (one instance talks to Airtable about a webhook at a time) and
 * the cursor, which moves only in the transaction that queues the payloads it passed.
 */
import { type ExpressionBuilder, sql } from "kysely";
import type { Database } from "../schema.js";
import type {
  AirtableWebhookActivation,
  AirtableWebhookDelivery,
  AirtableWebhookLeaseRequest,
  AirtableWebhookRecord,
  AirtableWebhookRelease,
  AirtableWebhooksDueQuery,
  AirtableWebhookWork,
  NewAirtableWebhook,
  PayloadPageSave,
} from "../types.js";
import type { SqlContext } from "./context.js";
import { insertEvent } from "./events.js";
import { macSecretContext, toAirtableWebhook } from "./rows.js";

/** How much of an upstream error is kept. */
const MAX_ERROR_LENGTH = 500;

type WebhookExpressions = ExpressionBuilder<Database, "airtable_webhooks">;

/** Active, not leased, not backing off, and its connection is active (a paused one waits). */
function workable(eb: WebhookExpressions, at: number) {
  return eb.and([
    eb("airtable_webhooks.status", "=", "active"),
    eb.or([eb("airtable_webhooks.lease_until", "is", null), eb("airtable_webhooks.lease_until", "<=", at)]),
    eb.or([
      eb("airtable_webhooks.next_attempt_at", "is", null),
      eb("airtable_webhooks.next_attempt_at", "<=", at),
    ]),
    eb.exists(
      eb
        .selectFrom("connections")
        .select("connections.identifier")
        .whereRef("connections.integration_id", "=", "airtable_webhooks.integration_id")
        .whereRef("connections.identifier", "=", "airtable_webhooks.identifier")
        .where("connections.status", "=", "active"),
    ),
  ]);
}

/** A fetch is due for an uncovered ping, or as a poll when the last fetch is old (pings are best effort). */
function fetchDue(eb: WebhookExpressions, pollBefore: number) {
  return eb.or([
    eb("airtable_webhooks.pings", ">", eb.ref("airtable_webhooks.fetched_pings")),
    eb("airtable_webhooks.last_fetch_at", "is", null),
    eb("airtable_webhooks.last_fetch_at", "<", pollBefore),
  ]);
}

function refreshDue(eb: WebhookExpressions, refreshBefore: number) {
  return eb.and([
    eb("airtable_webhooks.expiration_time", "is not", null),
    eb("airtable_webhooks.expiration_time", "<", refreshBefore),
  ]);
}

function workDue(eb: WebhookExpressions, work: AirtableWebhookWork) {
  return work.kind === "fetch"
    ? fetchDue(eb, work.pollBefore.getTime())
    : refreshDue(eb, work.refreshBefore.getTime());
}

/** `Store.createAirtableWebhook`. */
export async function createAirtableWebhook(ctx: SqlContext, webhook: NewAirtableWebhook): Promise<void> {
  const at = webhook.now.getTime();
  await ctx.db
    .insertInto("airtable_webhooks")
    .values({
      id: webhook.id,
      integration_id: ctx.integration,
      identifier: webhook.identifier,
      base_id: webhook.baseId,
      airtable_webhook_id: null,
      status: "creating",
      specification: JSON.stringify(webhook.specification),
      notification_url: webhook.notificationUrl,
      mac_secret_enc: null,
      expiration_time: null,
      cursor: 1,
      pings: 0,
      fetched_pings: 0,
      last_ping_at: null,
      last_fetch_at: null,
      last_refreshed_at: null,
      lease_owner: null,
      lease_until: null,
      next_attempt_at: null,
      failures: 0,
      last_error: null,
      created_at: at,
      updated_at: at,
    })
    .execute();
}

/** `Store.activateAirtableWebhook`: only a `creating` row becomes active. */
export async function activateAirtableWebhook(
  ctx: SqlContext,
  id: string,
  created: AirtableWebhookActivation,
): Promise<boolean> {
  const at = created.now.getTime();
  const result = await ctx.db
    .updateTable("airtable_webhooks")
    .set({
      status: "active",
      airtable_webhook_id: created.airtableWebhookId,
      mac_secret_enc: ctx.keyring.encrypt(created.macSecret, macSecretContext(id)),
      expiration_time: created.expirationTime?.getTime() ?? null,
      last_refreshed_at: at,
      updated_at: at,
    })
    .where("id", "=", id)
    .where("status", "=", "creating")
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** `Store.getAirtableWebhook`. */
export async function getAirtableWebhook(ctx: SqlContext, id: string): Promise<AirtableWebhookRecord | null> {
  const row = await ctx.db
    .selectFrom("airtable_webhooks")
    .selectAll()
    .where("id", "=", id)
    .executeTakeFirst();
  return row ? toAirtableWebhook(row) : null;
}

/** `Store.getAirtableWebhookSecret`. */
export async function getAirtableWebhookSecret(ctx: SqlContext, id: string): Promise<string | null> {
  const row = await ctx.db
    .selectFrom("airtable_webhooks")
    .select(["mac_secret_enc"])
    .where("id", "=", id)
    .executeTakeFirst();
  if (!row?.mac_secret_enc) return null;
  return ctx.keyring.decrypt(row.mac_secret_enc, macSecretContext(id));
}

/** `Store.listAirtableWebhooks`: the rows, then one grouped read of their pending outbox events. */
export async function listAirtableWebhooks(
  ctx: SqlContext,
  identifier: string,
): Promise<Array<AirtableWebhookRecord & { delivery: AirtableWebhookDelivery }>> {
  const rows = await ctx.db
    .selectFrom("airtable_webhooks")
    .selectAll()
    .where("integration_id", "=", ctx.integration)
    .where("identifier", "=", identifier)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  if (rows.length === 0) return [];
  const pending = await ctx.db
    .selectFrom("events")
    .select(["ordering_key", "ordering_seq", "last_error"])
    .where(
      "ordering_key",
      "in",
      rows.map((row) => row.id),
    )
    .where("webhook_state", "=", "pending")
    .orderBy("ordering_seq")
    .execute();
  const delivery = new Map<string, AirtableWebhookDelivery>();
  for (const event of pending) {
    const key = event.ordering_key!;
    const seen = delivery.get(key);
    if (seen) seen.pending++;
    else delivery.set(key, { pending: 1, lastError: event.last_error });
  }
  return rows.map((row) => ({
    ...toAirtableWebhook(row),
    delivery: delivery.get(row.id) ?? { pending: 0, lastError: null },
  }));
}

/** `Store.deleteAirtableWebhook`: the row goes; queued payload events stay and are delivered. */
export async function deleteAirtableWebhook(ctx: SqlContext, id: string): Promise<boolean> {
  const result = await ctx.db.deleteFrom("airtable_webhooks").where("id", "=", id).executeTakeFirst();
  return result.numDeletedRows === 1n;
}

/** `Store.recordAirtableWebhookPing`. */
export async function recordAirtableWebhookPing(ctx: SqlContext, id: string, now: Date): Promise<boolean> {
  const result = await ctx.db
    .updateTable("airtable_webhooks")
    .set({ pings: sql<number>`pings + 1`, last_ping_at: now.getTime() })
    .where("id", "=", id)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** `Store.claimAirtableWebhookLease`. */
export async function claimAirtableWebhookLease(
  ctx: SqlContext,
  id: string,
  request: AirtableWebhookLeaseRequest,
): Promise<AirtableWebhookRecord | null> {
  const at = request.now.getTime();
  const row = await ctx.db
    .updateTable("airtable_webhooks")
    .set({ lease_owner: request.owner, lease_until: at + request.leaseMs })
    .where("id", "=", id)
    .where((eb) => eb.and([workable(eb, at), workDue(eb, request.work)]))
    .returningAll()
    .executeTakeFirst();
  return row ? toAirtableWebhook(row) : null;
}

/** `Store.saveAirtablePayloadPage`: fenced on the cursor and the lease owner. */
export async function saveAirtablePayloadPage(
  ctx: SqlContext,
  id: string,
  page: PayloadPageSave,
): Promise<boolean> {
  const at = page.now.getTime();
  return ctx.db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable("airtable_webhooks")
      .set({ cursor: page.nextCursor, last_fetch_at: at, lease_until: at + page.leaseMs, updated_at: at })
      .where("id", "=", id)
      .where("cursor", "=", page.cursor)
      .where("lease_owner", "=", page.owner)
      .where("status", "=", "active")
      .returning(["integration_id", "identifier"])
      .executeTakeFirst();
    if (!row) return false;
    if (page.event) await insertEvent(ctx, trx, row.identifier, page.event, at, row.integration_id);
    return true;
  });
}

/** `Store.releaseAirtableWebhookLease`: fenced on the owner; a loss also writes its event. */
export async function releaseAirtableWebhookLease(
  ctx: SqlContext,
  id: string,
  release: AirtableWebhookRelease,
): Promise<boolean> {
  const at = release.now.getTime();
  if (release.kind === "lost") {
    return ctx.db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable("airtable_webhooks")
        .set({ lease_owner: null, lease_until: null, updated_at: at, status: release.status })
        .where("id", "=", id)
        .where("lease_owner", "=", release.owner)
        .where("status", "=", "active")
        .returning(["integration_id", "identifier"])
        .executeTakeFirst();
      if (!row) return false;
      await insertEvent(ctx, trx, row.identifier, release.event, at, row.integration_id);
      return true;
    });
  }
  const result = await ctx.db
    .updateTable("airtable_webhooks")
    .set({ lease_owner: null, lease_until: null, updated_at: at, ...releaseOutcome(release, at) })
    .where("id", "=", id)
    .where("lease_owner", "=", release.owner)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** What a fetch, a refresh or a failure records besides freeing the lease. */
function releaseOutcome(release: Exclude<AirtableWebhookRelease, { kind: "lost" }>, at: number) {
  const healthy = { failures: 0, next_attempt_at: null, last_error: null };
  switch (release.kind) {
    case "yielded":
      return {};
    case "fetched":
      return {
        ...healthy,
        next_attempt_at: release.cooldownUntil?.getTime() ?? null,
        last_fetch_at: at,
        // Pings counted during the fetch stay uncovered: another fetch follows.
        fetched_pings: sql<number>`case when fetched_pings < ${release.coveredPings} then ${release.coveredPings} else fetched_pings end`,
      };
    case "refreshed":
      return {
        ...healthy,
        expiration_time: release.expirationTime?.getTime() ?? null,
        last_refreshed_at: at,
      };
    case "failed":
      return {
        failures: sql<number>`failures + 1`,
        next_attempt_at: release.nextAttemptAt.getTime(),
        last_error: release.error.slice(0, MAX_ERROR_LENGTH),
      };
  }
}

/** `Store.listAirtableWebhooksDue`: least recently touched first. */
export async function listAirtableWebhooksDue(
  ctx: SqlContext,
  query: AirtableWebhooksDueQuery,
): Promise<string[]> {
  const at = query.now.getTime();
  const rows = await ctx.db
    .selectFrom("airtable_webhooks")
    .select("id")
    .where((eb) =>
      eb.and([
        workable(eb, at),
        eb.or([fetchDue(eb, query.pollBefore.getTime()), refreshDue(eb, query.refreshBefore.getTime())]),
      ]),
    )
    .orderBy("updated_at")
    .limit(Math.max(1, Math.floor(query.limit)))
    .execute();
  return rows.map((row) => row.id);
}

/** `Store.listAbandonedAirtableWebhooks`: oldest first. */
export async function listAbandonedAirtableWebhooks(
  ctx: SqlContext,
  createdBefore: Date,
  limit: number,
): Promise<AirtableWebhookRecord[]> {
  const rows = await ctx.db
    .selectFrom("airtable_webhooks")
    .selectAll()
    .where("status", "=", "creating")
    .where("created_at", "<", createdBefore.getTime())
    .orderBy("created_at")
    .limit(Math.max(1, Math.floor(limit)))
    .execute();
  return rows.map(toAirtableWebhook);
}

/** `Store.deleteAbandonedAirtableWebhook`. */
export async function deleteAbandonedAirtableWebhook(ctx: SqlContext, id: string): Promise<boolean> {
  const result = await ctx.db
    .deleteFrom("airtable_webhooks")
    .where("id", "=", id)
    .where("status", "=", "creating")
    .executeTakeFirst();
  return result.numDeletedRows === 1n;
}

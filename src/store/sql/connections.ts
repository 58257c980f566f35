/**
 * Connections: connect (insert or reconnect in place), read, list, count, disconnect, and the
 * keep-alive scan. Every change moves the version and is announced to `onConnectionChanged`.
 */
import { sql } from "kysely";
import {
  CONNECTION_STATUSES,
  type ConnectionCounts,
  type ConnectionMetadata,
  type ConnectionPage,
  type ConnectionRecord,
  type KeepAliveQuery,
  type ListConnectionsOptions,
  type NewConnectionTokens,
  type NewEvent,
  type RevokeOutcome,
  type RevokeRequest,
  type UpsertedConnection,
} from "../types.js";
import { connectionKey, type SqlContext } from "./context.js";
import { insertEvent } from "./events.js";
import { isConnectionStatus, metadataColumn, tokenContext, toRecord, toSummary } from "./rows.js";

/** A new grant, a saved refresh or a disconnect: no lease, no takeover, no failures, no backoff. */
export const REFRESH_STATE_RESET = {
  lease_owner: null,
  lease_until: null,
  lease_takeover: 0,
  refresh_failures: 0,
  next_refresh_attempt_at: null,
} as const;

/** What a revoked connection's token columns decrypt to: never a usable token. */
const REVOKED_PLACEHOLDER = "revoked";

/**
 * `Store.upsertConnection`: one transaction with its event. New metadata replaces the row's; none
 * (null or absent) keeps what a reconnected row has.
 */
export async function upsertConnection(
  ctx: SqlContext,
  tokens: NewConnectionTokens,
  now: Date,
  event: (created: boolean) => NewEvent,
): Promise<UpsertedConnection> {
  const at = now.getTime();
  const id = tokens.identifier;
  const values = {
    status: "active",
    status_reason: null,
    scopes: JSON.stringify(tokens.scopes),
    airtable_user_id: tokens.airtableUserId,
    email: tokens.email,
    access_token_enc: ctx.keyring.encrypt(
      tokens.accessToken,
      tokenContext(ctx.integration, "access_token", id),
    ),
    refresh_token_enc: ctx.keyring.encrypt(
      tokens.refreshToken,
      tokenContext(ctx.integration, "refresh_token", id),
    ),
    access_token_expires_at: tokens.accessTokenExpiresAt.getTime(),
    refresh_token_expires_at: tokens.refreshTokenExpiresAt.getTime(),
    last_refreshed_at: at,
    updated_at: at,
    ...REFRESH_STATE_RESET,
  } as const;
  const metadata = metadataColumn(tokens.metadata);
  const replaced = metadata === null ? {} : { metadata };
  const row = await ctx.db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto("connections")
      .values({
        integration_id: ctx.integration,
        identifier: id,
        created_at: at,
        version: 1,
        metadata,
        ...values,
      })
      .onConflict((oc) =>
        oc
          .columns(["integration_id", "identifier"])
          .doUpdateSet({ ...values, ...replaced, version: sql<number>`connections.version + 1` }),
      )
      .returningAll()
      .executeTakeFirstOrThrow();
    // A fresh insert starts at version 1; a reconnect in place always bumps an existing version past it.
    await insertEvent(ctx, trx, id, event(row.version === 1), at);
    await ctx.dialect.announceInTransaction(trx, connectionKey(ctx.integration, id), row.version);
    return row;
  });
  ctx.dialect.announceAfterCommit(connectionKey(ctx.integration, id), row.version);
  return { created: row.version === 1, connection: toRecord(ctx.keyring, row) };
}

/** `Store.getConnection`. */
export async function getConnection(ctx: SqlContext, identifier: string): Promise<ConnectionRecord | null> {
  const row = await ctx.db
    .selectFrom("connections")
    .selectAll()
    .where("integration_id", "=", ctx.integration)
    .where("identifier", "=", identifier)
    .executeTakeFirst();
  return row ? toRecord(ctx.keyring, row) : null;
}

/** `Store.setConnectionMetadata`: one UPDATE; the version stays (tokens did not change). */
export async function setConnectionMetadata(
  ctx: SqlContext,
  identifier: string,
  metadata: ConnectionMetadata | null,
  now: Date,
): Promise<boolean> {
  const result = await ctx.db
    .updateTable("connections")
    .set({ metadata: metadataColumn(metadata), updated_at: now.getTime() })
    .where("integration_id", "=", ctx.integration)
    .where("identifier", "=", identifier)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** `Store.listConnections`: one query for `limit + 1` rows tells whether another page follows. */
export async function listConnections(
  ctx: SqlContext,
  options: ListConnectionsOptions,
): Promise<ConnectionPage> {
  const limit = Math.max(1, Math.floor(options.limit));
  let query = ctx.db
    .selectFrom("connections")
    .selectAll()
    .where("integration_id", "=", ctx.integration)
    .orderBy("identifier")
    .limit(limit + 1);
  if (options.after !== undefined) query = query.where("identifier", ">", options.after);
  if (options.status !== undefined) query = query.where("status", "=", options.status);
  const rows = await query.execute();
  const page = rows.slice(0, limit);
  return {
    items: page.map(toSummary),
    nextCursor: rows.length > limit ? (page.at(-1)?.identifier ?? null) : null,
  };
}

/**
 * `Store.countConnectionsByStatus`, of the store's integration: rows of a status this version does
 * not know are not counted.
 */
export async function countConnectionsByStatus(ctx: SqlContext): Promise<ConnectionCounts> {
  const rows = await ctx.db
    .selectFrom("connections")
    .select(["status", (eb) => eb.fn.countAll<number>().as("count")])
    .where("integration_id", "=", ctx.integration)
    .groupBy("status")
    .execute();
  const counts = Object.fromEntries(CONNECTION_STATUSES.map((s) => [s, 0])) as ConnectionCounts;
  for (const row of rows) {
    if (isConnectionStatus(row.status)) counts[row.status] = Number(row.count);
  }
  return counts;
}

/** `Store.revokeConnection`: one transaction; the event only when this call revoked it. */
export async function revokeConnection(
  ctx: SqlContext,
  identifier: string,
  update: RevokeRequest,
  event: NewEvent,
): Promise<RevokeOutcome> {
  const at = update.now.getTime();
  const outcome = await ctx.db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable("connections")
      .set({
        status: "revoked",
        status_reason: update.reason,
        // The columns stay encrypted and bound to the row, but hold nothing of the old grant.
        access_token_enc: ctx.keyring.encrypt(
          REVOKED_PLACEHOLDER,
          tokenContext(ctx.integration, "access_token", identifier),
        ),
        refresh_token_enc: ctx.keyring.encrypt(
          REVOKED_PLACEHOLDER,
          tokenContext(ctx.integration, "refresh_token", identifier),
        ),
        access_token_expires_at: at,
        refresh_token_expires_at: at,
        updated_at: at,
        // A status change moves the version: leases claimed and tokens cached on the old one are void.
        version: sql<number>`connections.version + 1`,
        ...REFRESH_STATE_RESET,
      })
      .where("integration_id", "=", ctx.integration)
      .where("identifier", "=", identifier)
      .where("status", "<>", "revoked")
      .returning(["version"])
      .executeTakeFirst();
    if (!row) {
      const exists = await trx
        .selectFrom("connections")
        .select("identifier")
        .where("integration_id", "=", ctx.integration)
        .where("identifier", "=", identifier)
        .executeTakeFirst();
      return { result: exists ? ("already_revoked" as const) : ("not_found" as const), version: 0 };
    }
    const version = Number(row.version);
    await insertEvent(ctx, trx, identifier, event, at);
    await ctx.dialect.announceInTransaction(trx, connectionKey(ctx.integration, identifier), version);
    return { result: "revoked" as const, version };
  });
  if (outcome.result === "revoked")
    ctx.dialect.announceAfterCommit(connectionKey(ctx.integration, identifier), outcome.version);
  return outcome.result;
}

/** `Store.listDueForKeepAlive`: the `connections_keep_alive_due` index answers the scan. */
export async function listDueForKeepAlive(ctx: SqlContext, options: KeepAliveQuery): Promise<string[]> {
  const before = options.refreshedBefore.getTime();
  const rows = await ctx.db
    .selectFrom("connections")
    .select("identifier")
    .where("integration_id", "=", ctx.integration)
    .where("status", "=", "active")
    .where("last_refreshed_at", "<", before)
    .orderBy("last_refreshed_at")
    .limit(Math.max(1, Math.floor(options.limit)))
    .execute();
  // Rows written by hand without a refresh time are due too (never produced by this store).
  if (rows.length < options.limit) {
    const never = await ctx.db
      .selectFrom("connections")
      .select("identifier")
      .where("integration_id", "=", ctx.integration)
      .where("status", "=", "active")
      .where("last_refreshed_at", "is", null)
      .limit(Math.max(1, Math.floor(options.limit)) - rows.length)
      .execute();
    return [...never, ...rows].map((r) => r.identifier);
  }
  return rows.map((r) => r.identifier);
}

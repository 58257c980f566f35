/**
 * The refresh lease and fencing (ARCHITECTURE.md, "The token algorithm" and "Durability"): claim
 * with one conditional UPDATE, save rotated tokens fenced on the version alone (I3), renew and
 * release fenced on the owner, and the terminal `reauth_required`, fenced on the version.
 */
import { sql } from "kysely";
import type {
  LeaseClaim,
  LeaseRelease,
  LeaseRenewal,
  LeaseRequest,
  NewEvent,
  ReauthRequest,
  RefreshSave,
} from "../types.js";
import { REFRESH_STATE_RESET } from "./connections.js";
import { connectionKey, type SqlContext } from "./context.js";
import { insertEvent } from "./events.js";
import { tokenContext } from "./rows.js";

/**
 * `Store.claimRefreshLease`: succeeds only on the row at `claim.version`, active, with no live
 * lease and no pending backoff.
 */
export async function claimRefreshLease(
  ctx: SqlContext,
  identifier: string,
  claim: LeaseRequest,
): Promise<LeaseClaim> {
  const at = claim.now.getTime();
  const row = await ctx.db
    .updateTable("connections")
    .set({
      lease_owner: claim.owner,
      lease_until: at + claim.leaseMs,
      // SET expressions see the row before the update: a non-null owner here means the previous
      // lease expired without a release or a save. The flag stays set until a refresh succeeds.
      lease_takeover: sql<number>`case when lease_owner is not null or lease_takeover = 1 then 1 else 0 end`,
    })
    .where("integration_id", "=", ctx.integration)
    .where("identifier", "=", identifier)
    .where("version", "=", claim.version)
    .where("status", "=", "active")
    .where((eb) => eb.or([eb("lease_until", "is", null), eb("lease_until", "<=", at)]))
    // A transient-failure backoff binds every instance, not just the one that recorded it.
    .where((eb) =>
      eb.or([eb("next_refresh_attempt_at", "is", null), eb("next_refresh_attempt_at", "<=", at)]),
    )
    .returning(["lease_takeover"])
    .executeTakeFirst();
  return row ? { claimed: true, takeover: Number(row.lease_takeover) === 1 } : { claimed: false };
}

/** `Store.saveRefreshedTokens`: version + 1, lease cleared, failures reset, in one transaction. */
export async function saveRefreshedTokens(
  ctx: SqlContext,
  identifier: string,
  update: RefreshSave,
  event?: NewEvent,
): Promise<boolean> {
  const at = update.now.getTime();
  const { tokens } = update;
  const accessTokenEnc = ctx.keyring.encrypt(
    tokens.accessToken,
    tokenContext(ctx.integration, "access_token", identifier),
  );
  const refreshTokenEnc = ctx.keyring.encrypt(
    tokens.refreshToken,
    tokenContext(ctx.integration, "refresh_token", identifier),
  );
  const saved = await ctx.db.transaction().execute(async (trx) => {
    const result = await trx
      .updateTable("connections")
      .set({
        scopes: JSON.stringify(tokens.scopes),
        access_token_enc: accessTokenEnc,
        refresh_token_enc: refreshTokenEnc,
        access_token_expires_at: tokens.accessTokenExpiresAt.getTime(),
        refresh_token_expires_at: tokens.refreshTokenExpiresAt.getTime(),
        last_refreshed_at: at,
        updated_at: at,
        version: update.version + 1,
        ...REFRESH_STATE_RESET,
      })
      // Fenced on the version alone: whoever holds the lease now, these tokens came from the
      // refresh token of this version, which Airtable accepts once, so they are the newest grant.
      .where("integration_id", "=", ctx.integration)
      .where("identifier", "=", identifier)
      .where("version", "=", update.version)
      .where("status", "=", "active")
      .executeTakeFirst();
    if (result.numUpdatedRows !== 1n) return false;
    if (event) await insertEvent(ctx, trx, identifier, event, at);
    await ctx.dialect.announceInTransaction(
      trx,
      connectionKey(ctx.integration, identifier),
      update.version + 1,
    );
    return true;
  });
  if (saved) ctx.dialect.announceAfterCommit(connectionKey(ctx.integration, identifier), update.version + 1);
  return saved;
}

/** `Store.renewRefreshLease`: fenced on owner and version. */
export async function renewRefreshLease(
  ctx: SqlContext,
  identifier: string,
  renewal: LeaseRenewal,
): Promise<boolean> {
  const result = await ctx.db
    .updateTable("connections")
    .set({ lease_until: renewal.until.getTime() })
    .where("integration_id", "=", ctx.integration)
    .where("identifier", "=", identifier)
    .where("version", "=", renewal.version)
    .where("lease_owner", "=", renewal.owner)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** `Store.releaseRefreshLease`: fenced on the owner; announced, so waiters look again. */
export async function releaseRefreshLease(
  ctx: SqlContext,
  identifier: string,
  release: LeaseRelease,
): Promise<void> {
  const row = await ctx.db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable("connections")
      .set({
        lease_owner: null,
        lease_until: null,
        refresh_failures: release.failed ? sql<number>`refresh_failures + 1` : sql<number>`refresh_failures`,
        next_refresh_attempt_at: release.nextAttemptAt?.getTime() ?? null,
        ...(release.uncertain ? { lease_takeover: 1 } : {}),
      })
      .where("integration_id", "=", ctx.integration)
      .where("identifier", "=", identifier)
      .where("lease_owner", "=", release.owner)
      .returning(["version"])
      .executeTakeFirst();
    // Wake the waiters: the version did not move, but the lease is free and the backoff is recorded.
    if (row)
      await ctx.dialect.announceInTransaction(
        trx,
        connectionKey(ctx.integration, identifier),
        Number(row.version),
      );
    return row;
  });
  if (row) ctx.dialect.announceAfterCommit(connectionKey(ctx.integration, identifier), Number(row.version));
}

/**
 * `Store.markReauthRequired`: fenced on the version (and, given an `owner`, on still holding the
 * lease), with its event, in one transaction.
 */
export async function markReauthRequired(
  ctx: SqlContext,
  identifier: string,
  update: ReauthRequest,
  event: NewEvent,
): Promise<boolean> {
  const at = update.now.getTime();
  const marked = await ctx.db.transaction().execute(async (trx) => {
    const result = await trx
      .updateTable("connections")
      .set({
        status: "reauth_required",
        status_reason: update.reason,
        // A status change also moves the version: leases claimed on the old one can no longer save.
        version: update.version + 1,
        updated_at: at,
        lease_owner: null,
        lease_until: null,
        lease_takeover: 0,
        next_refresh_attempt_at: null,
      })
      .where("integration_id", "=", ctx.integration)
      .where("identifier", "=", identifier)
      .where("version", "=", update.version)
      .where("status", "=", "active")
      .$if(update.owner !== undefined, (query) => query.where("lease_owner", "=", update.owner ?? ""))
      .executeTakeFirst();
    if (result.numUpdatedRows !== 1n) return false;
    await insertEvent(ctx, trx, identifier, event, at);
    await ctx.dialect.announceInTransaction(
      trx,
      connectionKey(ctx.integration, identifier),
      update.version + 1,
    );
    return true;
  });
  if (marked) ctx.dialect.announceAfterCommit(connectionKey(ctx.integration, identifier), update.version + 1);
  return marked;
}

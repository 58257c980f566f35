/**
 * The connect flow's short-lived rows: connect sessions (the link's token, stored hashed, single
 * use) and pending authorizations (one per redirect to Airtable, the verifier encrypted at rest),
 * their purge, and what the newest attempt of an identifier got to.
 */
import type { Selectable } from "kysely";
import type { ConnectSessionsTable } from "../schema.js";
import type {
  ConnectAttempt,
  ConnectSession,
  NewConnectSession,
  NewPendingAuthorization,
  PendingAuthorization,
} from "../types.js";
import type { SqlContext } from "./context.js";
import { metadataColumn, parseList, parseMetadata, toDate, verifierContext } from "./rows.js";

/** `Store.createConnectSession`: created now by the store's clock. */
export async function createConnectSession(ctx: SqlContext, session: NewConnectSession): Promise<void> {
  await ctx.db
    .insertInto("connect_sessions")
    .values({
      token_hash: session.tokenHash,
      integration_id: ctx.integration,
      identifier: session.identifier,
      scopes: JSON.stringify(session.scopes),
      return_url: session.returnUrl,
      expires_at: session.expiresAt.getTime(),
      created_at: ctx.now().getTime(),
      used_at: null,
      metadata: metadataColumn(session.metadata),
      expected_email: session.expectedEmail ?? null,
    })
    .execute();
}

/** `Store.findLiveConnectSession`: a read only (the link stays usable). */
export async function findLiveConnectSession(
  ctx: SqlContext,
  tokenHash: string,
  now: Date,
): Promise<ConnectSession | null> {
  const row = await ctx.db
    .selectFrom("connect_sessions")
    .selectAll()
    .where("token_hash", "=", tokenHash)
    .where("used_at", "is", null)
    .where("expires_at", ">", now.getTime())
    .executeTakeFirst();
  return row ? toConnectSession(row) : null;
}

/** `Store.consumeConnectSession`: one conditional UPDATE, so only the first caller gets it. */
export async function consumeConnectSession(
  ctx: SqlContext,
  tokenHash: string,
  now: Date,
): Promise<ConnectSession | null> {
  const row = await ctx.db
    .updateTable("connect_sessions")
    .set({ used_at: now.getTime() })
    .where("token_hash", "=", tokenHash)
    .where("used_at", "is", null)
    .where("expires_at", ">", now.getTime())
    .returningAll()
    .executeTakeFirst();
  return row ? toConnectSession(row) : null;
}

function toConnectSession(row: Selectable<ConnectSessionsTable>): ConnectSession {
  return {
    tokenHash: row.token_hash,
    integration: row.integration_id,
    identifier: row.identifier,
    scopes: parseList(row.scopes),
    returnUrl: row.return_url,
    expiresAt: new Date(row.expires_at),
    createdAt: new Date(row.created_at),
    metadata: parseMetadata(row.metadata),
    expectedEmail: row.expected_email,
  };
}

/** `Store.createPendingAuthorization`: created now by the store's clock, the verifier encrypted. */
export async function createPendingAuthorization(
  ctx: SqlContext,
  pending: NewPendingAuthorization,
): Promise<void> {
  await ctx.db
    .insertInto("pending_authorizations")
    .values({
      state_hash: pending.stateHash,
      integration_id: ctx.integration,
      identifier: pending.identifier,
      scopes: JSON.stringify(pending.scopes),
      return_url: pending.returnUrl,
      code_verifier_enc: ctx.keyring.encrypt(pending.codeVerifier, verifierContext(pending.stateHash)),
      browser_binding_hash: pending.browserBindingHash,
      expires_at: pending.expiresAt.getTime(),
      used_at: null,
      created_at: ctx.now().getTime(),
      metadata: metadataColumn(pending.metadata),
      expected_email: pending.expectedEmail ?? null,
    })
    .execute();
}

/** `Store.getPendingAuthorization`. */
export async function getPendingAuthorization(
  ctx: SqlContext,
  stateHash: string,
): Promise<PendingAuthorization | null> {
  const row = await ctx.db
    .selectFrom("pending_authorizations")
    .selectAll()
    .where("state_hash", "=", stateHash)
    .executeTakeFirst();
  if (!row) return null;
  return {
    stateHash: row.state_hash,
    integration: row.integration_id,
    identifier: row.identifier,
    scopes: parseList(row.scopes),
    returnUrl: row.return_url,
    codeVerifier: ctx.keyring.decrypt(row.code_verifier_enc, verifierContext(row.state_hash)),
    browserBindingHash: row.browser_binding_hash,
    expiresAt: new Date(row.expires_at),
    usedAt: toDate(row.used_at),
    createdAt: new Date(row.created_at),
    metadata: parseMetadata(row.metadata),
    expectedEmail: row.expected_email,
  };
}

/** `Store.markPendingAuthorizationUsed`: one conditional UPDATE. */
export async function markPendingAuthorizationUsed(
  ctx: SqlContext,
  stateHash: string,
  now: Date,
): Promise<boolean> {
  const result = await ctx.db
    .updateTable("pending_authorizations")
    .set({ used_at: now.getTime() })
    .where("state_hash", "=", stateHash)
    .where("used_at", "is", null)
    .where("expires_at", ">", now.getTime())
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** `Store.purgeExpired`. */
export async function purgeExpired(ctx: SqlContext, now: Date): Promise<number> {
  const at = now.getTime();
  const sessions = await ctx.db
    .deleteFrom("connect_sessions")
    .where("expires_at", "<=", at)
    .executeTakeFirst();
  const pending = await ctx.db
    .deleteFrom("pending_authorizations")
    .where("expires_at", "<=", at)
    .executeTakeFirst();
  return Number(sessions.numDeletedRows) + Number(pending.numDeletedRows);
}

/** `Store.latestConnectAttempt`. */
export async function latestConnectAttempt(
  ctx: SqlContext,
  identifier: string,
): Promise<ConnectAttempt | null> {
  // Both tables only hold live links and authorizations (purgeExpired), so they stay small.
  const session = await ctx.db
    .selectFrom("connect_sessions")
    .select(["created_at", "expires_at", "used_at"])
    .where("integration_id", "=", ctx.integration)
    .where("identifier", "=", identifier)
    .orderBy("created_at", "desc")
    .limit(1)
    .executeTakeFirst();
  if (!session) return null;
  const pending = await ctx.db
    .selectFrom("pending_authorizations")
    .select(["expires_at", "used_at"])
    .where("integration_id", "=", ctx.integration)
    .where("identifier", "=", identifier)
    .where("created_at", ">=", Number(session.created_at))
    .orderBy("created_at", "desc")
    .limit(1)
    .executeTakeFirst();
  return {
    createdAt: new Date(Number(session.created_at)),
    expiresAt: new Date(Number(session.expires_at)),
    openedAt: toDate(session.used_at),
    authorizationExpiresAt: pending ? new Date(Number(pending.expires_at)) : null,
    returnedAt: pending ? toDate(pending.used_at) : null,
  };
}

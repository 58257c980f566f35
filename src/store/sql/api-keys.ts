/**
 * Named API keys (issue 12): only the SHA-256 of a key is stored, looked up through its unique
 * index; revoking is a timestamp, so a revoked key stays listed and is refused at once.
 */
import type { Selectable } from "kysely";
import type { ApiKeysTable } from "../schema.js";
import type { ApiKeyRecord, ApiKeyScope, NewApiKey } from "../types.js";
import type { SqlContext } from "./context.js";

/** A key's last-used time is written at most once a minute. */
export const TOUCH_INTERVAL_MS = 60_000;

function toApiKey(row: Selectable<ApiKeysTable>): ApiKeyRecord {
  return {
    id: row.id,
    name: row.name,
    scope: row.scope as ApiKeyScope,
    createdAt: new Date(Number(row.created_at)),
    lastUsedAt: row.last_used_at === null ? null : new Date(Number(row.last_used_at)),
    revokedAt: row.revoked_at === null ? null : new Date(Number(row.revoked_at)),
  };
}

/** `Store.createApiKey`. */
export async function createApiKey(ctx: SqlContext, key: NewApiKey): Promise<ApiKeyRecord> {
  const row = {
    id: key.id,
    name: key.name,
    scope: key.scope,
    key_hash: key.keyHash,
    created_at: key.now.getTime(),
    last_used_at: null,
    revoked_at: null,
  };
  await ctx.db.insertInto("api_keys").values(row).execute();
  return toApiKey(row);
}

/** `Store.listApiKeys`: oldest first, revoked ones included. */
export async function listApiKeys(ctx: SqlContext): Promise<ApiKeyRecord[]> {
  const rows = await ctx.db.selectFrom("api_keys").selectAll().orderBy("created_at").orderBy("id").execute();
  return rows.map(toApiKey);
}

/** `Store.findActiveApiKey`: one indexed lookup by hash; revoked keys are not found. */
export async function findActiveApiKey(ctx: SqlContext, keyHash: string): Promise<ApiKeyRecord | null> {
  const row = await ctx.db
    .selectFrom("api_keys")
    .selectAll()
    .where("key_hash", "=", keyHash)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return row ? toApiKey(row) : null;
}

/** `Store.touchApiKey`: skipped when another instance wrote it less than a minute ago. */
export async function touchApiKey(ctx: SqlContext, id: string, now: Date): Promise<void> {
  const at = now.getTime();
  await ctx.db
    .updateTable("api_keys")
    .set({ last_used_at: at })
    .where("id", "=", id)
    .where((eb) => eb.or([eb("last_used_at", "is", null), eb("last_used_at", "<=", at - TOUCH_INTERVAL_MS)]))
    .execute();
}

/** `Store.revokeApiKey`: null for an unknown id; revoking twice keeps the first time. */
export async function revokeApiKey(ctx: SqlContext, id: string, now: Date): Promise<ApiKeyRecord | null> {
  await ctx.db
    .updateTable("api_keys")
    .set({ revoked_at: now.getTime() })
    .where("id", "=", id)
    .where("revoked_at", "is", null)
    .execute();
  const row = await ctx.db.selectFrom("api_keys").selectAll().where("id", "=", id).executeTakeFirst();
  return row ? toApiKey(row) : null;
}

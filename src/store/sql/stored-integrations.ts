/**
 * Integrations created through the API (issue 12): one row each, the client secret encrypted and
 * bound to the row. The service reads them on every instance (server/integrations.ts).
 */
import type { Selectable } from "kysely";
import type { IntegrationsTable } from "../schema.js";
import type { StoredIntegration } from "../types.js";
import type { SqlContext } from "./context.js";
import { clientSecretContext, parseList } from "./rows.js";

function toStoredIntegration(ctx: SqlContext, row: Selectable<IntegrationsTable>): StoredIntegration {
  return {
    id: row.id,
    name: row.name,
    clientId: row.client_id,
    clientSecret:
      row.client_secret_enc === null
        ? null
        : ctx.keyring.decrypt(row.client_secret_enc, clientSecretContext(row.id)),
    scopes: parseList(row.scopes),
    createdAt: new Date(Number(row.created_at)),
  };
}

/** `Store.createStoredIntegration`: false when the id or the client id is taken (nothing written). */
export async function createStoredIntegration(
  ctx: SqlContext,
  integration: StoredIntegration,
): Promise<boolean> {
  const result = await ctx.db
    .insertInto("integrations")
    .values({
      id: integration.id,
      name: integration.name,
      client_id: integration.clientId,
      client_secret_enc:
        integration.clientSecret === null
          ? null
          : ctx.keyring.encrypt(integration.clientSecret, clientSecretContext(integration.id)),
      scopes: JSON.stringify(integration.scopes),
      created_at: integration.createdAt.getTime(),
    })
    // Either unique column (id, client_id) taken: nothing is written, on both dialects.
    .onConflict((oc) => oc.doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
}

/** `Store.listStoredIntegrations`: oldest first. */
export async function listStoredIntegrations(ctx: SqlContext): Promise<StoredIntegration[]> {
  const rows = await ctx.db
    .selectFrom("integrations")
    .selectAll()
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  return rows.map((row) => toStoredIntegration(ctx, row));
}

/** `Store.deleteStoredIntegration`. */
export async function deleteStoredIntegration(ctx: SqlContext, id: string): Promise<boolean> {
  const result = await ctx.db.deleteFrom("integrations").where("id", "=", id).executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}

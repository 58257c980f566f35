/**
 * Key rotation: every secret column re-encrypted under the keyring's first key, a page at a time,
 * each row fenced on its old ciphertext so a write landing in between is never overwritten.
 */
import type { SqlContext } from "./context.js";
import {
  type ConnectionRow,
  clientSecretContext,
  macSecretContext,
  tokenContext,
  verifierContext,
} from "./rows.js";

const REENCRYPT_PAGE = 200;

type ConnectionSecrets = Pick<
  ConnectionRow,
  "integration_id" | "identifier" | "access_token_enc" | "refresh_token_enc"
>;

const SECRET_COLUMNS = ["integration_id", "identifier", "access_token_enc", "refresh_token_enc"] as const;

/**
 * `Store.reencryptAll`: connections, pending authorizations, webhook MAC secrets, stored
 * integrations' client secrets; returns rows rewritten.
 */
export async function reencryptAll(ctx: SqlContext): Promise<number> {
  return (
    (await reencryptConnections(ctx)) +
    (await reencryptPending(ctx)) +
    (await reencryptMacSecrets(ctx)) +
    (await reencryptClientSecrets(ctx))
  );
}

/** Every integration's connections, a page at a time in (integration, identifier) order. */
async function reencryptConnections(ctx: SqlContext): Promise<number> {
  let rewritten = 0;
  let after: ConnectionSecrets | null = null;
  for (;;) {
    let query = ctx.db
      .selectFrom("connections")
      .select(SECRET_COLUMNS)
      .orderBy("integration_id")
      .orderBy("identifier")
      .limit(REENCRYPT_PAGE);
    if (after !== null) {
      const last: ConnectionSecrets = after;
      query = query.where((eb) =>
        eb.or([
          eb("integration_id", ">", last.integration_id),
          eb.and([eb("integration_id", "=", last.integration_id), eb("identifier", ">", last.identifier)]),
        ]),
      );
    }
    const rows = await query.execute();
    for (const row of rows) {
      if (await reencryptConnection(ctx, row)) rewritten++;
    }
    if (rows.length < REENCRYPT_PAGE) return rewritten;
    after = rows.at(-1)!;
  }
}

async function reencryptConnection(ctx: SqlContext, first: ConnectionSecrets): Promise<boolean> {
  const { db, keyring } = ctx;
  let row: ConnectionSecrets | undefined = first;
  // Fenced on the old ciphertexts: a refresh that lands in between wins, and we look again.
  for (let attempt = 0; row && attempt < 5; attempt++) {
    const id: string = row.identifier;
    const integration: string = row.integration_id;
    if (
      !keyring.needsReencryption(row.access_token_enc) &&
      !keyring.needsReencryption(row.refresh_token_enc)
    ) {
      return false;
    }
    const access = tokenContext(integration, "access_token", id);
    const refresh = tokenContext(integration, "refresh_token", id);
    const result = await db
      .updateTable("connections")
      .set({
        access_token_enc: keyring.encrypt(keyring.decrypt(row.access_token_enc, access), access),
        refresh_token_enc: keyring.encrypt(keyring.decrypt(row.refresh_token_enc, refresh), refresh),
      })
      .where("integration_id", "=", integration)
      .where("identifier", "=", id)
      .where("access_token_enc", "=", row.access_token_enc)
      .where("refresh_token_enc", "=", row.refresh_token_enc)
      .executeTakeFirst();
    if (result.numUpdatedRows === 1n) return true;
    row = await db
      .selectFrom("connections")
      .select(SECRET_COLUMNS)
      .where("integration_id", "=", integration)
      .where("identifier", "=", id)
      .executeTakeFirst();
  }
  return false;
}

async function reencryptPending(ctx: SqlContext): Promise<number> {
  const { db, keyring } = ctx;
  let rewritten = 0;
  let after: string | null = null;
  for (;;) {
    let query = db
      .selectFrom("pending_authorizations")
      .select(["state_hash", "code_verifier_enc"])
      .orderBy("state_hash")
      .limit(REENCRYPT_PAGE);
    if (after !== null) query = query.where("state_hash", ">", after);
    const rows = await query.execute();
    for (const row of rows) {
      if (!keyring.needsReencryption(row.code_verifier_enc)) continue;
      const context = verifierContext(row.state_hash);
      const result = await db
        .updateTable("pending_authorizations")
        .set({ code_verifier_enc: keyring.encrypt(keyring.decrypt(row.code_verifier_enc, context), context) })
        .where("state_hash", "=", row.state_hash)
        .where("code_verifier_enc", "=", row.code_verifier_enc)
        .executeTakeFirst();
      if (result.numUpdatedRows === 1n) rewritten++;
    }
    if (rows.length < REENCRYPT_PAGE) return rewritten;
    after = rows.at(-1)!.state_hash;
  }
}

async function reencryptMacSecrets(ctx: SqlContext): Promise<number> {
  const { db, keyring } = ctx;
  let rewritten = 0;
  let after: string | null = null;
  for (;;) {
    let query = db
      .selectFrom("airtable_webhooks")
      .select(["id", "mac_secret_enc"])
      .where("mac_secret_enc", "is not", null)
      .orderBy("id")
      .limit(REENCRYPT_PAGE);
    if (after !== null) query = query.where("id", ">", after);
    const rows = await query.execute();
    for (const row of rows) {
      const stored = row.mac_secret_enc!;
      if (!keyring.needsReencryption(stored)) continue;
      const context = macSecretContext(row.id);
      const result = await db
        .updateTable("airtable_webhooks")
        .set({ mac_secret_enc: keyring.encrypt(keyring.decrypt(stored, context), context) })
        .where("id", "=", row.id)
        .where("mac_secret_enc", "=", stored)
        .executeTakeFirst();
      if (result.numUpdatedRows === 1n) rewritten++;
    }
    if (rows.length < REENCRYPT_PAGE) return rewritten;
    after = rows.at(-1)!.id;
  }
}

/** The client secrets of integrations created through the API (few rows: one pass). */
async function reencryptClientSecrets(ctx: SqlContext): Promise<number> {
  const { db, keyring } = ctx;
  const rows = await db
    .selectFrom("integrations")
    .select(["id", "client_secret_enc"])
    .where("client_secret_enc", "is not", null)
    .execute();
  let rewritten = 0;
  for (const row of rows) {
    const stored = row.client_secret_enc!;
    if (!keyring.needsReencryption(stored)) continue;
    const context = clientSecretContext(row.id);
    const result = await db
      .updateTable("integrations")
      .set({ client_secret_enc: keyring.encrypt(keyring.decrypt(stored, context), context) })
      .where("id", "=", row.id)
      .where("client_secret_enc", "=", stored)
      .executeTakeFirst();
    if (result.numUpdatedRows === 1n) rewritten++;
  }
  return rewritten;
}

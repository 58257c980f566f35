/**
 * The store's one-row tables: `airlock_health` (migration 0002), rewritten by every write check,
 * and `dashboard_session_epoch` (migration 0003), which signs every dashboard session out when it
 * moves on.
 */
import { sql } from "kysely";
import type { SqlContext } from "./context.js";

/** `Store.checkWritable`: one committed upsert of `airlock_health`, stamped by the store's clock. */
export async function checkWritable(ctx: SqlContext): Promise<void> {
  await sql`insert into airlock_health (id, checked_at) values (1, ${ctx.now().getTime()})
    on conflict (id) do update set checked_at = excluded.checked_at`.execute(ctx.db);
}

/** `Store.getSessionEpoch`: 0 before the first sign-out. */
export async function getSessionEpoch(ctx: SqlContext): Promise<number> {
  const { rows } = await sql<{ epoch: number | string }>`select epoch from dashboard_session_epoch
    where id = 1`.execute(ctx.db);
  return Number(rows[0]?.epoch ?? 0);
}

/** `Store.bumpSessionEpoch`: one upsert, so concurrent sign-outs each move it on by one. */
export async function bumpSessionEpoch(ctx: SqlContext): Promise<number> {
  const { rows } = await sql<{ epoch: number | string }>`insert into dashboard_session_epoch (id, epoch)
    values (1, 1) on conflict (id) do update set epoch = dashboard_session_epoch.epoch + 1
    returning epoch`.execute(ctx.db);
  return Number(rows[0]?.epoch ?? 0);
}
